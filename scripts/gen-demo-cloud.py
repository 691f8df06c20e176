#!/usr/bin/env python3
"""Writes examples/demo-cloud.json: a small, realistic OpenStack inventory snapshot.

Deterministic (uuid5 ids), so the file only changes when this script does. It covers every
detection case driftmux must get right; the comment beside each rule says what it expects.
Run: python3 scripts/gen-demo-cloud.py > examples/demo-cloud.json
"""
import json
import uuid

NS = uuid.UUID("6f1c5a52-2b7e-4d8e-9a57-3d1b0c2e9f10")


def uid(name, hexonly=False):
    u = uuid.uuid5(NS, name)
    return u.hex if hexonly else str(u)


projects = {
    "admin": "admin",
    "datalab": "datalab",
    "webshop": "webshop",
    "k8s": "k8s-platform",
    "finance": "finance",
    "sandbox": "sandbox",
}
P = {k: uid("project-" + k, hexonly=True) for k in projects}
# A project whose groups exist but which Keystone did not list (deleted, or another domain).
P["ghost"] = uid("project-ghost", hexonly=True)

groups = []
rules = []


def group(key, name, project):
    gid = uid("sg-" + key)
    groups.append({"id": gid, "name": name, "project_id": P[project], "tenant_id": P[project],
                   "description": "", "stateful": True, "tags": [],
                   "created_at": "2026-01-10T09:00:00Z", "updated_at": "2026-01-10T09:00:00Z"})
    # Every group gets Neutron's two egress-any rules.
    for eth in ("IPv4", "IPv6"):
        rule(f"{key}-egress-{eth}", gid, project, direction="egress", ethertype=eth)
    return gid


def rule(key, gid, project, direction="ingress", ethertype="IPv4", protocol=None,
         pmin=None, pmax=None, prefix=None, remote_group=None, remote_ag=None):
    rules.append({
        "id": uid("rule-" + key), "security_group_id": gid, "project_id": P[project],
        "tenant_id": P[project], "direction": direction, "ethertype": ethertype,
        "protocol": protocol, "port_range_min": pmin, "port_range_max": pmax,
        "remote_ip_prefix": prefix, "normalized_cidr": prefix, "remote_group_id": remote_group,
        "remote_address_group_id": remote_ag, "description": "",
        "created_at": "2026-01-10T09:00:00Z", "updated_at": "2026-01-10T09:00:00Z",
        "revision_number": 0, "tags": [],
    })


def default_group(project):
    gid = group("default-" + project, "default", project)
    for eth in ("IPv4", "IPv6"):
        rule(f"default-{project}-self-{eth}", gid, project, ethertype=eth, remote_group=gid)
    return gid


D = {p: default_group(p) for p in ["datalab", "webshop", "k8s", "finance", "sandbox"]}

# datalab
g = group("jupyter", "jupyter", "datalab")
rule("jupyter-ssh", g, "datalab", protocol="tcp", pmin=22, pmax=22, prefix="0.0.0.0/0")          # HIGH 22/SSH active
rule("jupyter-ssh6", g, "datalab", ethertype="IPv6", protocol="tcp", pmin=22, pmax=22)          # HIGH, no remote -> ::/0
rule("jupyter-8888", g, "datalab", protocol="tcp", pmin=8888, pmax=8888, prefix="0.0.0.0/0")    # not critical by default
rule("jupyter-icmp", g, "datalab", protocol="icmp", pmin=8, pmax=0, prefix="0.0.0.0/0")         # ICMP: no finding
g = group("datalab-db", "postgres-legacy", "datalab")
rule("pg-half", g, "datalab", protocol="tcp", pmin=5432, pmax=5432, prefix="0.0.0.0/1")         # MEDIUM unused, half of IPv4
rule("pg-office", g, "datalab", protocol="tcp", pmin=5432, pmax=5432, prefix="203.0.113.0/24")  # specific range: no finding
g = group("datalab-any", "debug-open", "datalab")
rule("debug-any", g, "datalab", prefix="0.0.0.0/0")                                              # CRITICAL all ports, active
rule("debug-any6", g, "datalab", ethertype="IPv6", protocol="0", prefix="::0/0")                 # CRITICAL all ports (protocol 0)

# webshop
g = group("web", "web-frontend", "webshop")
rule("web-80", g, "webshop", protocol="tcp", pmin=80, pmax=80, prefix="0.0.0.0/0")               # web only: ignored
rule("web-443", g, "webshop", protocol="tcp", pmin=443, pmax=443, prefix="0.0.0.0/0")            # web only: ignored
rule("web-443v6", g, "webshop", ethertype="IPv6", protocol="tcp", pmin=443, pmax=443, prefix="::/0")
rule("web-8080", g, "webshop", protocol="TCP", pmin=8080, pmax=8080, prefix="0.0.0.0/0")         # HIGH 8080 (name upper-case)
rule("web-range", g, "webshop", protocol="tcp", pmin=80, pmax=443, prefix="0.0.0.0/0")           # HIGH 389/LDAP inside 80-443
g = group("webshop-db", "mysql", "webshop")
rule("mysql-app", g, "webshop", protocol="tcp", pmin=3306, pmax=3306, remote_group=uid("sg-web"))  # remote group: no finding
rule("mysql-public", g, "webshop", protocol="6", pmin=3306, pmax=3306, prefix="1.2.3.4/0")      # HIGH: host bits -> 0.0.0.0/0
rule("redis-public", g, "webshop", protocol="tcp", pmin=6379, pmax=6379, prefix="8.0.0.0/8")     # HIGH: broad public /8
rule("memcached-ag", g, "webshop", protocol="udp", pmin=11211, pmax=11211, remote_ag=uid("ag-office"))  # address group: none
g = group("webshop-admin", "admin-rdp", "webshop")
rule("rdp", g, "webshop", protocol="tcp", pmin=3389, pmax=3389, prefix="0.0.0.0/0")              # MEDIUM unused
rule("rdp-egress", g, "webshop", direction="egress", protocol="tcp", pmin=3389, pmax=3389, prefix="0.0.0.0/0")  # egress: none

# k8s-platform
g = group("k8s-master", "k8s-master", "k8s")
rule("k8s-api", g, "k8s", protocol="tcp", pmin=6443, pmax=6443, prefix="0.0.0.0/0")             # HIGH 6443
rule("k8s-api6", g, "k8s", ethertype="IPv6", protocol="tcp", pmin=6443, pmax=6443, prefix="2000::/3")  # HIGH: global unicast
rule("kubelet", g, "k8s", protocol="tcp", pmin=10250, pmax=10250, prefix="10.0.0.0/8")          # private: none
rule("docker", g, "k8s", protocol="tcp", pmin=2375, pmax=2376, prefix="0.0.0.0/0")               # HIGH 2375 + 2376
rule("ssh-admin", g, "admin", protocol="tcp", pmin=22, pmax=22, prefix="0.0.0.0/0")              # rule owned by admin, group by k8s
g = group("k8s-nodes", "k8s-nodes", "k8s")
rule("nodeports", g, "k8s", protocol="tcp", pmin=30000, pmax=32767, prefix="0.0.0.0/0")          # no critical port: none
rule("kubelet-pub", g, "k8s", protocol="tcp", pmin=10250, pmax=10250, prefix="0.0.0.0/0")        # HIGH, DHCP+router ports only
rule("nfs", g, "k8s", protocol="udp", pmin=2049, pmax=2049, prefix="0.0.0.0/0")                  # HIGH NFS over udp
rule("vxlan", g, "k8s", protocol="udp", pmin=4789, pmax=4789, prefix="fc00::/7", ethertype="IPv6")  # ULA: none
rule("gre", g, "k8s", protocol="gre", prefix="0.0.0.0/0")                                        # GRE has no ports: none

# finance
g = group("finance-es", "elasticsearch", "finance")
rule("es", g, "finance", ethertype="IPv6", protocol="tcp", pmin=9200, pmax=9200, prefix="::/0") # HIGH 9200
rule("kibana", g, "finance", protocol="tcp", pmin=5601, pmax=5601, prefix="0.0.0.0/0")          # HIGH 5601
rule("kafka-sctp", g, "finance", protocol="sctp", pmin=9092, pmax=9092, prefix="0.0.0.0/0")     # HIGH 9092 over sctp
g = group("finance-legacy", "legacy-old-cloud", "finance")
rule("half-open", g, "finance", protocol="tcp", pmin=3300, pmax=None, prefix="0.0.0.0/0")        # half-open: 3300-65535
rule("udp-all", g, "finance", protocol="udp", pmin=1, pmax=65535, prefix="0.0.0.0/0")            # all udp ports, unused: HIGH

# sandbox
g = group("sandbox-vnc", "vnc-desktops", "sandbox")
rule("vnc", g, "sandbox", protocol="tcp", pmin=5900, pmax=5999, prefix="0.0.0.0/0")              # HIGH 5900-5999/VNC
rule("mongo", g, "sandbox", protocol="tcp", pmin=27017, pmax=27017, prefix="0.0.0.0/0")         # HIGH
rule("tcp-all", g, "sandbox", protocol="tcp", prefix="0.0.0.0/0")                                 # CRITICAL all tcp ports
g = group("sandbox-smb", "smb", "sandbox")
rule("smb", g, "sandbox", protocol="tcp", pmin=445, pmax=445, prefix="0.0.0.0/0")                # MEDIUM unused
rule("ldaps", g, "sandbox", protocol="tcp", pmin=636, pmax=636, prefix="127.0.0.0/8")            # loopback: none

# ghost project (not listed by Keystone): shown by id
g = group("ghost", "forgotten", "ghost")
rule("ghost-ssh", g, "ghost", protocol="tcp", pmin=22, pmax=22, prefix="0.0.0.0/0")              # MEDIUM unused, shown by id

# Networks, servers, ports, floating IPs.
public_net = uid("net-public")
networks = [
    {"id": public_net, "name": "public", "router:external": True, "status": "ACTIVE"},
    {"id": uid("net-datalab"), "name": "datalab-net", "router:external": False, "status": "ACTIVE"},
    {"id": uid("net-webshop"), "name": "webshop-net", "router:external": False, "status": "ACTIVE"},
    {"id": uid("net-k8s"), "name": "k8s-net", "router:external": False, "status": "ACTIVE"},
]
servers = []
ports = []
fips = []


def server(key, name, project, status="ACTIVE", partial=False):
    sid = uid("server-" + key)
    if partial:  # a server in a down cell: Nova returns a partial record
        servers.append({"id": sid, "status": "UNKNOWN", "tenant_id": P[project], "created": "2026-01-10T09:00:00Z"})
    else:
        servers.append({"id": sid, "name": name, "status": status, "tenant_id": P[project],
                        "user_id": uid("user-" + project, True), "flavor": {"original_name": "m1.small"}})
    return sid


n = [0]


def port(key, sgs, project, net, device_id="", owner="", ip=None, fip=None):
    n[0] += 1
    pid = uid("port-" + key)
    ip = ip or f"192.168.{n[0] // 200}.{10 + n[0] % 200}"
    ports.append({"id": pid, "name": "", "network_id": net, "project_id": P[project],
                  "tenant_id": P[project], "device_id": device_id, "device_owner": owner,
                  "security_groups": sgs, "port_security_enabled": bool(sgs) or owner.startswith("compute"),
                  "fixed_ips": [{"subnet_id": uid("subnet-" + net), "ip_address": ip}],
                  "status": "ACTIVE", "admin_state_up": True, "mac_address": "fa:16:3e:00:00:%02x" % n[0]})
    if fip:
        fips.append({"id": uid("fip-" + key), "floating_ip_address": fip, "port_id": pid,
                     "fixed_ip_address": ip, "floating_network_id": public_net, "status": "ACTIVE",
                     "router_id": uid("router-" + project), "project_id": P[project]})
    return pid


sg = {g["name"] + "@" + g["project_id"]: g["id"] for g in groups}


def G(name, project):
    return sg[name + "@" + P[project]]


net = {"datalab": uid("net-datalab"), "webshop": uid("net-webshop"), "k8s": uid("net-k8s")}
s = server("jhub", "jupyterhub-01", "datalab")
port("jhub", [G("default", "datalab"), G("jupyter", "datalab"), G("debug-open", "datalab")], "datalab", net["datalab"], s, "compute:nova", fip="198.51.100.10")
s = server("worker1", "spark-worker-01", "datalab", status="SHUTOFF")
port("worker1", [G("default", "datalab"), G("jupyter", "datalab")], "datalab", net["datalab"], s, "compute:nova")
port("datalab-dhcp", [G("default", "datalab")], "datalab", net["datalab"], "dhcp" + uid("x", True)[:8], "network:dhcp")
for i in range(3):
    s = server(f"web{i}", f"shop-web-{i:02d}", "webshop")
    port(f"web{i}", [G("default", "webshop"), G("web-frontend", "webshop")], "webshop", net["webshop"], s, "compute:nova",
         fip=f"198.51.100.{20 + i}" if i == 0 else None)
s = server("db1", "shop-db-01", "webshop")
port("db1", [G("mysql", "webshop")], "webshop", net["webshop"], s, "compute:nova")
# Two NICs of the same server in one group: one server, two ports.
port("db1-nic2", [G("mysql", "webshop")], "webshop", net["webshop"], s, "compute:nova")
for i in range(3):
    s = server(f"master{i}", f"k8s-master-{i}", "k8s", partial=(i == 2))
    port(f"master{i}", [G("default", "k8s"), G("k8s-master", "k8s")], "k8s", net["k8s"], s, "compute:nova")
# A VM Nova did not list (deleted or another cell): counted, not named.
port("stray", [G("k8s-master", "k8s")], "k8s", net["k8s"], uid("server-stray"), "compute:nova")
port("k8s-dhcp", [G("k8s-nodes", "k8s")], "k8s", net["k8s"], "dhcp" + uid("y", True)[:8], "network:dhcp")
port("k8s-router", [G("k8s-nodes", "k8s")], "k8s", net["k8s"], uid("router-k8s"), "network:router_interface")
s = server("es", "es-data-01", "finance")
port("es", [G("elasticsearch", "finance")], "finance", net["k8s"], s, "compute:nova", ip="2001:db8:10::5")
s = server("vnc", "desktop-01", "sandbox")
port("vnc", [G("vnc-desktops", "sandbox"), G("default", "sandbox")], "sandbox", net["k8s"], s, "compute:nova", fip="198.51.100.40")
# Router gateway port: port security off, no groups.
port("gw", [], "admin", public_net, uid("router-k8s"), "network:router_gateway", ip="198.51.100.2")
# An unassociated floating IP.
fips.append({"id": uid("fip-free"), "floating_ip_address": "198.51.100.99", "port_id": None, "fixed_ip_address": None,
             "floating_network_id": public_net, "status": "DOWN", "router_id": None, "project_id": P["sandbox"]})

snapshot = {
    "driftmux_snapshot": 1,
    "collected_at": "2026-11-20T08:00:00Z",
    "cloud": "demo",
    "region": "RegionOne",
    "projects": [{"id": P[k], "name": v, "domain_id": "default", "enabled": True} for k, v in projects.items()],
    "security_groups": groups,
    "security_group_rules": rules,
    "ports": ports,
    "servers": servers,
    "floatingips": fips,
    "networks": networks,
    "address_groups": [{"id": uid("ag-office"), "name": "office", "addresses": ["203.0.113.0/24", "2001:db8:1::/48"]}],
}
print(json.dumps(snapshot, indent=1))
