//! Writes a synthetic snapshot: `cargo run --release --example bench-gen -- RULES FILE [SEED]`.

#[path = "support/synth.rs"]
mod synth;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rules: u64 = args.get(1).and_then(|a| a.parse().ok()).expect("RULES");
    let path = args.get(2).expect("FILE");
    let seed = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(42);
    let file = std::fs::File::create(path).expect("create the snapshot file");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    synth::write_snapshot(&synth::Shape::for_rules(rules), seed, &mut out).expect("write");
    std::io::Write::flush(&mut out).expect("flush");
}
