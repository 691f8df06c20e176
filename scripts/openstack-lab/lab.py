"""Helpers for scripts/openstack-lab/lab, run with the lab's virtualenv Python.

  keystone-setup   service project and users, network and compute services and endpoints
  neutron-schema   create Neutron's schema from its models and the default SG rule templates
  seed             projects, networks, router, groups, rules, ports, a floating IP (raw API
                   calls), and $LAB_DIR/expected.json: what driftmux must find
  nova-down-cell   a Nova cell that is down (its database cannot be opened), before nova-api
                   starts: nova-api reads its cells once
  nova-servers     the servers behind the seeded ports and four spare ones, written into
                   Nova's cell database; three servers mapped to the cell that is down
  bench-servers N  N servers without ports, for scripts/bench-lab --servers

Everything talks to 127.0.0.1 only.
"""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

LAB = os.environ["LAB_DIR"]
KEYSTONE = f"http://127.0.0.1:{os.environ['KEYSTONE_PORT']}/v3"
NEUTRON = f"http://127.0.0.1:{os.environ['NEUTRON_PORT']}/v2.0"
NOVA = f"http://127.0.0.1:{os.environ['NOVA_PORT']}/v2.1"
ADMIN_PASSWORD = os.environ["ADMIN_PASSWORD"]
SERVICE_PASSWORD = os.environ["SERVICE_PASSWORD"]
# A member of the datalab project (seed): what a project's own CI job would audit with.
MEMBER = "datalab-member"
MEMBER_PASSWORD = "lab-member-password"
NS = uuid.UUID("0b6c1d0e-59a2-4c1b-9a51-1b0b1e5ad0c1")


def call(method, url, body=None, token=None, ok=(200, 201, 202, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        if e.code in ok:
            return e.code, dict(e.headers), (json.loads(raw) if raw else None)
        sys.exit(f"lab.py: {method} {url} -> HTTP {e.code}: {raw[:500]!r}")


def admin_token():
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    _, headers, _ = call("POST", f"{KEYSTONE}/auth/tokens", body)
    return headers.get("X-Subject-Token") or headers.get("x-subject-token")


def find(token, url, key, **match):
    _, _, body = call("GET", url, token=token)
    for item in body[key]:
        if all(item.get(k) == v for k, v in match.items()):
            return item
    return None


def ensure(token, url, key, single, match, create):
    item = find(token, url, key, **match)
    if item:
        return item
    _, _, body = call("POST", url, {single: create}, token=token)
    return body[single]


def keystone_setup():
    t = admin_token()
    service = ensure(t, f"{KEYSTONE}/projects", "projects", "project", {"name": "service"},
                     {"name": "service", "domain_id": "default"})
    # Service users need the `service` role too: services reject a service token without it.
    roles = [find(t, f"{KEYSTONE}/roles", "roles", name=n) for n in ("admin", "service")]
    for name in ("neutron", "nova"):
        user = ensure(t, f"{KEYSTONE}/users", "users", "user", {"name": name},
                      {"name": name, "domain_id": "default", "password": SERVICE_PASSWORD})
        for role in roles:
            call("PUT", f"{KEYSTONE}/projects/{service['id']}/users/{user['id']}/roles/{role['id']}",
                 token=t)
    for stype, name, url in (("network", "neutron", f"http://127.0.0.1:{os.environ['NEUTRON_PORT']}"),
                             ("compute", "nova", NOVA)):
        svc = ensure(t, f"{KEYSTONE}/services", "services", "service", {"type": stype},
                     {"type": stype, "name": name})
        for interface in ("public", "internal", "admin"):
            if not find(t, f"{KEYSTONE}/endpoints", "endpoints", service_id=svc["id"], interface=interface):
                call("POST", f"{KEYSTONE}/endpoints", {"endpoint": {
                    "service_id": svc["id"], "interface": interface, "region_id": "RegionOne",
                    "url": url}}, token=t)


def neutron_schema(db_path):
    import sqlalchemy as sa
    from neutron.db.migration.models import head
    from oslo_utils import uuidutils

    engine = sa.create_engine(f"sqlite:///{db_path}")
    metadata = head.get_metadata()
    metadata.create_all(engine)
    # The 2023.2 migration also inserts the default security group rule templates; without
    # them every default group is created with no rules.
    std = metadata.tables["standardattributes"]
    templates = metadata.tables["securitygroupdefaultrules"]
    rules = [
        ("egress", "IPv4", None, True, True), ("egress", "IPv6", None, True, True),
        ("ingress", "IPv4", "PARENT", True, False), ("ingress", "IPv6", "PARENT", True, False),
    ]
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(templates)).scalar():
            return
        for direction, ethertype, remote, in_default, in_other in rules:
            res = conn.execute(sa.insert(std).values(
                resource_type="securitygroupdefaultrules",
                description=f"Legacy default SG rule for {direction} traffic"))
            conn.execute(sa.insert(templates).values(
                id=uuidutils.generate_uuid(), standard_attr_id=res.inserted_primary_key[0],
                direction=direction, ethertype=ethertype, remote_group_id=remote,
                used_in_default_sg=in_default, used_in_non_default_sg=in_other))


def sid(name):
    return str(uuid.uuid5(NS, name))


def seed():
    t = admin_token()
    proj = {}
    for name in ("datalab", "webshop"):
        proj[name] = ensure(t, f"{KEYSTONE}/projects", "projects", "project",
                            {"name": name, "domain_id": "default"},
                            {"name": name, "domain_id": "default"})["id"]
    # A project of another domain with the same name (Keystone's names are unique only
    # within a domain): a suppression naming `datalab` applies to both.
    partners = ensure(t, f"{KEYSTONE}/domains", "domains", "domain", {"name": "partners"},
                      {"name": "partners"})
    partners_datalab = ensure(t, f"{KEYSTONE}/projects", "projects", "project",
                              {"name": "datalab", "domain_id": partners["id"]},
                              {"name": "datalab", "domain_id": partners["id"]})["id"]
    # A member of datalab, not an admin: it sees its project's objects only, and Nova
    # refuses it every project's servers (all_tenants).
    member = ensure(t, f"{KEYSTONE}/users", "users", "user", {"name": MEMBER},
                    {"name": MEMBER, "domain_id": "default", "password": MEMBER_PASSWORD})
    member_role = find(t, f"{KEYSTONE}/roles", "roles", name="member")
    call("PUT", f"{KEYSTONE}/projects/{proj['datalab']}/users/{member['id']}/roles/{member_role['id']}",
         token=t)

    def net(name, project, **extra):
        return ensure(t, f"{NEUTRON}/networks", "networks", "network", {"name": name},
                      {"name": name, "project_id": project, **extra})

    def subnet(name, network, cidr, project, **extra):
        return ensure(t, f"{NEUTRON}/subnets", "subnets", "subnet", {"name": name},
                      {"name": name, "network_id": network["id"], "cidr": cidr,
                       "ip_version": 6 if ":" in cidr else 4, "project_id": project, **extra})

    admin_project = find(t, f"{KEYSTONE}/projects", "projects", name="admin",
                         domain_id="default")["id"]
    public = net("public", admin_project, **{"router:external": True,
                 "provider:network_type": "flat", "provider:physical_network": "public"})
    subnet("public-v4", public, "198.51.100.0/24", admin_project,
           allocation_pools=[{"start": "198.51.100.10", "end": "198.51.100.200"}])
    dl_net = net("datalab-net", proj["datalab"])
    dl_v4 = subnet("datalab-v4", dl_net, "10.10.0.0/24", proj["datalab"])
    subnet("datalab-v6", dl_net, "2001:db8:10::/64", proj["datalab"])
    ws_net = net("webshop-net", proj["webshop"])
    subnet("webshop-v4", ws_net, "10.20.0.0/24", proj["webshop"])
    router = ensure(t, f"{NEUTRON}/routers", "routers", "router", {"name": "datalab-router"},
                    {"name": "datalab-router", "project_id": proj["datalab"],
                     "external_gateway_info": {"network_id": public["id"]}})
    ports_of_router = find(t, f"{NEUTRON}/ports?device_id={router['id']}&device_owner=network:router_interface",
                           "ports")
    if not ports_of_router:
        call("PUT", f"{NEUTRON}/routers/{router['id']}/add_router_interface",
             {"subnet_id": dl_v4["id"]}, token=t)

    def group(name, project):
        return ensure(t, f"{NEUTRON}/security-groups", "security_groups", "security_group", {"name": name, "project_id": project},
                      {"name": name, "project_id": project})

    rules = {}

    def rule(key, g, project=None, **fields):
        existing = find(t, f"{NEUTRON}/security-group-rules?security_group_id={g['id']}",
                        "security_group_rules", description=key)
        if existing:
            rules[key] = existing["id"]
            return
        body = {"security_group_id": g["id"], "direction": "ingress", "description": key, **fields}
        if project:
            body["project_id"] = project
        _, _, created = call("POST", f"{NEUTRON}/security-group-rules",
                             {"security_group_rule": body}, token=t)
        rules[key] = created["security_group_rule"]["id"]

    dl = proj["datalab"]
    ssh = group("ssh-public", dl)
    rule("ssh-v4", ssh, dl, ethertype="IPv4", protocol="tcp", port_range_min=22, port_range_max=22,
         remote_ip_prefix="0.0.0.0/0")
    # An admin adds a rule to the tenant's group: the finding belongs to datalab.
    rule("rdp-by-admin", ssh, admin_project, ethertype="IPv4", protocol="tcp",
         port_range_min=3389, port_range_max=3389, remote_ip_prefix="0.0.0.0/0")
    rule("ssh-private", ssh, dl, ethertype="IPv4", protocol="tcp", port_range_min=2222,
         port_range_max=2222, remote_ip_prefix="10.0.0.0/8")
    rule("icmp-any", ssh, dl, ethertype="IPv4", protocol="icmp", remote_ip_prefix="0.0.0.0/0")
    rule("web-80", ssh, dl, ethertype="IPv4", protocol="tcp", port_range_min=80, port_range_max=80,
         remote_ip_prefix="0.0.0.0/0")
    rule("mysql-from-group", ssh, dl, ethertype="IPv4", protocol="tcp", port_range_min=3306,
         port_range_max=3306, remote_group_id=ssh["id"])
    open_all = group("all-open", dl)
    # No remote at all, no protocol (raw POST: the CLI would send 0.0.0.0/0).
    rule("no-remote-any", open_all, dl, ethertype="IPv4")
    rule("k8s-v6", open_all, dl, ethertype="IPv6", protocol="tcp", port_range_min=6443,
         port_range_max=6443, remote_ip_prefix="::/0")
    db = group("db-unused", dl)
    rule("pg-half", db, dl, ethertype="IPv4", protocol="6", port_range_min=5432, port_range_max=5432,
         remote_ip_prefix="0.0.0.0/1")
    rule("tcp-full-range", db, dl, ethertype="IPv4", protocol="tcp", port_range_min=1,
         port_range_max=65535, remote_ip_prefix="0.0.0.0/0")
    # Its port belongs to a server in the Nova cell that is down: Nova leaves it out of
    # its (paginated) listing, the finding shows its id alone, with a warning.
    mongo = group("down-cell-db", dl)
    rule("mongo", mongo, dl, ethertype="IPv4", protocol="tcp", port_range_min=27017,
         port_range_max=27017, remote_ip_prefix="0.0.0.0/0")
    # An address group holding a public prefix, named by a rule that opens SSH: never a
    # finding (its source is the address group), a warning in every report. The only rule
    # naming one: driftmux lists address groups for it alone.
    office = ensure(t, f"{NEUTRON}/address-groups", "address_groups", "address_group",
                    {"name": "lab-office"},
                    {"name": "lab-office", "project_id": dl, "addresses": ["0.0.0.0/0"]})
    rule("ssh-from-address-group", ssh, dl, ethertype="IPv4", protocol="tcp",
         port_range_min=22, port_range_max=22, remote_address_group_id=office["id"])
    # An admin's private address group, named by a rule an admin adds to the tenant's
    # group: no finding, no warning to an admin; its member sees the rule, not the address
    # group (the listing is read again once, then a warning that what it holds is unknown).
    admin_net = ensure(t, f"{NEUTRON}/address-groups", "address_groups", "address_group",
                       {"name": "admin-private"},
                       {"name": "admin-private", "project_id": admin_project,
                        "addresses": ["10.0.0.0/8"]})
    rule("rdp-from-admin-address-group", ssh, admin_project, ethertype="IPv4", protocol="tcp",
         port_range_min=3389, port_range_max=3389, remote_address_group_id=admin_net["id"])
    ws = proj["webshop"]
    redis = group("dhcp-only", ws)
    rule("redis", redis, ws, ethertype="IPv4", protocol="tcp", port_range_min=6379,
         port_range_max=6379, remote_ip_prefix="0.0.0.0/0")

    def port(name, network, groups, project, device_id="", owner="", fixed_ips=None, security=True):
        # network:* owners are trusted: Neutron creates their ports with port security off,
        # which refuses security groups. Create a plain port, then hand it to the owner.
        trusted = owner.startswith("network:")
        body = {"name": name, "network_id": network["id"], "project_id": project,
                "security_groups": [g["id"] for g in groups],
                "device_id": "" if trusted else device_id, "device_owner": "" if trusted else owner}
        if fixed_ips:
            body["fixed_ips"] = fixed_ips
        if not security:
            body["port_security_enabled"] = False
        created = ensure(t, f"{NEUTRON}/ports", "ports", "port", {"name": name}, body)
        if trusted and created["device_owner"] != owner:
            _, _, updated = call("PUT", f"{NEUTRON}/ports/{created['id']}", {"port": {
                "device_owner": owner, "device_id": device_id}}, token=t)
            created = updated["port"]
        return created

    vm1, vm2 = sid("lab-vm-1"), sid("lab-vm-2")
    p1 = port("vm1-port", dl_net, [ssh], dl, vm1, "compute:nova")
    port("vm2-port", dl_net, [open_all], dl, vm2, "compute:nova")
    port("webshop-dhcp", ws_net, [redis], ws, "dhcp" + sid("dhcp")[:8], "network:dhcp")
    down = next(iter(down_cell_servers()))
    port("vm-down-port", dl_net, [mongo], dl, down, "compute:nova")
    # A second port of vm2 that no security group filters (a firewall VM's, say).
    unfiltered = port("vm2-unfiltered-port", dl_net, [], dl, vm2, "compute:nova", security=False)
    fip = find(t, f"{NEUTRON}/floatingips", "floatingips", port_id=p1["id"])
    if not fip:
        _, _, body = call("POST", f"{NEUTRON}/floatingips", {"floatingip": {
            "floating_network_id": public["id"], "port_id": p1["id"], "project_id": dl}}, token=t)
        fip = body["floatingip"]

    def expect(rule_key, project, group, ports, source, severity, match, used_ports,
               used_servers, reachable, servers=()):
        return {"rule_id": rules[rule_key], "project_name": project, "security_group_name": group,
                "ports": ports, "source": source, "severity": severity, "matched": match,
                "used_by_count": used_ports, "used_by_server_count": used_servers,
                "internet_reachable": reachable, "server_names": sorted(servers)}

    expected = {
        "floating_ip": fip["floating_ip_address"],
        "servers": {vm1: "lab-vm-1", vm2: "lab-vm-2"},
        # Servers that ports use but Nova does not list (in the cell that is down).
        "unlisted_servers": [down],
        # The compute hosts of the cell that is down (Nova's os-services: status UNKNOWN).
        "down_cell_hosts": [DOWN_CELL_HOST],
        # Servers' ports with port security disabled, and their servers.
        "unfiltered_ports": {unfiltered["id"]: vm2},
        "projects": proj,
        # The other domain's project named datalab too.
        "partners_datalab": partners_datalab,
        "member": {"username": MEMBER, "password": MEMBER_PASSWORD, "project": "datalab"},
        "findings": [
            expect("ssh-v4", "datalab", "ssh-public", "22", "0.0.0.0/0", "high", ["22/SSH"], 1, 1, True, ["lab-vm-1"]),
            expect("rdp-by-admin", "datalab", "ssh-public", "3389", "0.0.0.0/0", "high", ["3389/RDP"], 1, 1, True, ["lab-vm-1"]),
            expect("no-remote-any", "datalab", "all-open", "all", "0.0.0.0/0", "critical", ["all_ports"], 1, 1, False, ["lab-vm-2"]),
            expect("k8s-v6", "datalab", "all-open", "6443", "::/0", "high", ["6443/Kubernetes API"], 1, 1, True, ["lab-vm-2"]),
            expect("pg-half", "datalab", "db-unused", "5432", "0.0.0.0/1", "medium", ["5432/PostgreSQL"], 0, 0, False),
            expect("tcp-full-range", "datalab", "db-unused", "all", "0.0.0.0/0", "high", ["all_ports"], 0, 0, False),
            expect("redis", "webshop", "dhcp-only", "6379", "0.0.0.0/0", "high", ["6379/Redis"], 1, 0, False),
            expect("mongo", "datalab", "down-cell-db", "27017", "0.0.0.0/0", "high", ["27017/MongoDB"], 1, 1, False),
        ],
        "absent": [rules[k] for k in ("ssh-private", "icmp-any", "web-80", "mysql-from-group",
                                      "ssh-from-address-group",
                                      "rdp-from-admin-address-group")],
        "address_group_warning": (
            f"1 ingress rule opening critical ports names an address group holding a public "
            f"source (rule {rules['ssh-from-address-group']} of security group {ssh['id']}: "
            f"address group \"lab-office\" ({office['id']}) holds 0.0.0.0/0)"),
        "member_unlisted_address_group_warning": (
            f"1 ingress rule opening critical ports names an address group that Neutron did "
            f"not list (rule {rules['rdp-from-admin-address-group']} of security group "
            f"{ssh['id']}: address group {admin_net['id']})"),
    }
    # Every rule of the cloud by direction, from one unfiltered listing: driftmux lists
    # them as two (direction=ingress, direction=egress) and must check them all.
    _, _, listed = call("GET", f"{NEUTRON}/security-group-rules?fields=id&fields=direction", token=t)
    directions = [r["direction"] for r in listed["security_group_rules"]]
    expected["rules"] = {d: directions.count(d) for d in ("ingress", "egress")}
    with open(os.path.join(LAB, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(f"lab.py: seeded {len(rules)} rules; expected findings in {LAB}/expected.json")


def write_servers(servers):
    """Writes `servers` ({id: name}, in the datalab project) into Nova's cell database, as
    Nova's own objects; those it holds already are left. Returns how many were written."""
    from nova import context, objects
    from nova.network import model as network_model

    nova_config()
    ctxt = context.get_admin_context()
    cell = cell_named(ctxt, "cell1")
    with open(os.path.join(LAB, "expected.json")) as f:
        project = json.load(f)["projects"]["datalab"]
    flavor = objects.Flavor(name="m1.small", memory_mb=512, vcpus=1, root_gb=1, ephemeral_gb=0,
                            flavorid="1", swap=0, rxtx_factor=1.0, vcpu_weight=0, disabled=False,
                            is_public=True, extra_specs={}, description=None)
    written = 0
    for server_id, name in servers.items():
        with context.target_cell(ctxt, cell) as cctxt:
            try:
                objects.Instance.get_by_uuid(cctxt, server_id)
                continue
            except Exception:
                pass
            inst = objects.Instance(context=cctxt, uuid=server_id, project_id=project,
                                    user_id="lab", display_name=name, hostname=name,
                                    vm_state="active", power_state=1, task_state=None,
                                    image_ref="", flavor=flavor, old_flavor=None, new_flavor=None,
                                    instance_type_id=1, memory_mb=512, vcpus=1, root_gb=1,
                                    ephemeral_gb=0, metadata={}, system_metadata={},
                                    launched_at=None, availability_zone="nova")
            inst.info_cache = objects.InstanceInfoCache(network_info=network_model.NetworkInfo([]))
            inst.create()
        objects.InstanceMapping(ctxt, instance_uuid=server_id, cell_mapping=cell,
                                project_id=project, user_id="lab").create()
        written += 1
    return written


_nova_configured = False


def nova_config():
    """Reads the lab's nova.conf and registers Nova's objects, once per process."""
    global _nova_configured
    if _nova_configured:
        return
    from nova import config, objects
    config.parse_args(["lab", "--config-file", os.path.join(LAB, "nova", "nova.conf")])
    objects.register_all()
    _nova_configured = True


def cell_named(ctxt, name):
    """Nova's mapping of the cell called `name`, or None."""
    from nova import objects
    return next((c for c in objects.CellMappingList.get_all(ctxt) if c.name == name), None)


# The cell that does not respond, and its compute host.
DOWN_CELL = "cell-down"
DOWN_CELL_HOST = "cell-down-compute-1"


def nova_down_cell():
    """Maps a cell whose database cannot be opened (a directory that does not exist), with a
    compute host: Nova reports the cell as not responding, leaves its servers out of
    paginated listings, and lists its host's compute service with status UNKNOWN."""
    from nova import context, objects
    nova_config()
    ctxt = context.get_admin_context()
    cell = cell_named(ctxt, DOWN_CELL)
    if cell is None:
        database = os.path.join(LAB, "nova", "no-such-directory", "cell-down.db")
        cell = objects.CellMapping(ctxt, uuid=str(uuid.uuid5(NS, DOWN_CELL)), name=DOWN_CELL,
                                   transport_url="fake:/",
                                   database_connection=f"sqlite:///{database}")
        cell.create()
        print(f"lab.py: Nova cell {DOWN_CELL} mapped to {database}, which cannot be opened")
    try:
        objects.HostMapping.get_by_host(ctxt, DOWN_CELL_HOST)
    except Exception:
        objects.HostMapping(ctxt, host=DOWN_CELL_HOST, cell_mapping=cell).create()


def down_cell_servers():
    """{id: name} of the servers mapped to the cell that is down (the first has a port)."""
    return named_ids("lab-down", range(1, 4))


def map_to_down_cell(servers):
    """Instance mappings of `servers` in the cell that is down (nothing in a cell database:
    a mapping is all Nova has of a down cell's server)."""
    from nova import context, objects
    nova_config()
    ctxt = context.get_admin_context()
    cell = cell_named(ctxt, DOWN_CELL)
    with open(os.path.join(LAB, "expected.json")) as f:
        project = json.load(f)["projects"]["datalab"]
    for server_id in servers:
        try:
            objects.InstanceMapping.get_by_instance_uuid(ctxt, server_id)
        except Exception:
            objects.InstanceMapping(ctxt, instance_uuid=server_id, cell_mapping=cell,
                                    project_id=project, user_id="lab").create()


def named_ids(prefix, numbers):
    """{id: name} of servers named prefix-N, their ids derived from the names."""
    return {str(uuid.uuid5(uuid.NAMESPACE_URL, f"driftmux-{prefix}-{n}")): f"{prefix}-{n}"
            for n in numbers}


def nova_servers():
    with open(os.path.join(LAB, "expected.json")) as f:
        expected = json.load(f)
    # Four servers without ports beside the two behind the seeded ports: enough for tests
    # to read Nova's listing in several pages, and from both ends.
    servers = {**expected["servers"], **named_ids("lab-spare", range(1, 5))}
    write_servers(servers)
    map_to_down_cell(down_cell_servers())
    print(f"lab.py: {len(servers)} servers in the cell database, {len(down_cell_servers())} in the cell that is down")


def bench_servers(n):
    """Servers bench-server-0 .. n-1 without ports (scripts/bench-lab --servers)."""
    written = write_servers(named_ids("bench-server", range(n)))
    print(f"lab.py: {n} bench servers in the cell database ({written} written now)")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "keystone-setup":
        keystone_setup()
    elif cmd == "neutron-schema":
        neutron_schema(sys.argv[2])
    elif cmd == "seed":
        seed()
    elif cmd == "nova-down-cell":
        nova_down_cell()
    elif cmd == "nova-servers":
        nova_servers()
    elif cmd == "bench-servers":
        bench_servers(int(sys.argv[2]))
    else:
        sys.exit(f"unknown command {cmd}")
