//! msgpack encode/decode of a 40-attribute container object, the shape
//! Terraform sends on every plan and apply of a container resource.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion};
use pvelxc_cty::{msgpack, Type, Value};
use std::hint::black_box;

/// 40 attributes: 24 known scalars, 4 unknown and 4 null strings, tags, two
/// maps, mount points, networks (with unknown MACs), devices, raw LXC lines
/// and a dynamic value.
fn container() -> (Type, Value) {
    let mut attrs: Vec<(String, Type)> = Vec::new();
    let mut vals: Vec<(String, Value)> = Vec::new();
    for i in 0..12 {
        attrs.push((format!("s{i:02}"), Type::String));
        vals.push((
            format!("s{i:02}"),
            Value::string(format!("value-{i}-debian-12-standard")),
        ));
    }
    for i in 0..8 {
        attrs.push((format!("n{i:02}"), Type::Number));
        vals.push((format!("n{i:02}"), Value::int(1000 * i64::from(i) + 7)));
    }
    for i in 0..4 {
        attrs.push((format!("b{i:02}"), Type::Bool));
        vals.push((format!("b{i:02}"), Value::bool(i % 2 == 0)));
    }
    for i in 0..4 {
        attrs.push((format!("u{i:02}"), Type::String));
        vals.push((format!("u{i:02}"), Value::unknown()));
    }
    for i in 0..4 {
        attrs.push((format!("null{i:02}"), Type::String));
        vals.push((format!("null{i:02}"), Value::Null));
    }
    attrs.push(("tags".into(), Type::set(Type::String)));
    vals.push((
        "tags".into(),
        Value::set(["media", "ripper", "gpu"].map(Value::string)),
    ));
    attrs.push(("labels".into(), Type::map(Type::String)));
    vals.push((
        "labels".into(),
        Value::map([
            ("env", Value::string("home")),
            ("tier", Value::string("media")),
        ]),
    ));
    attrs.push(("env".into(), Type::map(Type::String)));
    vals.push((
        "env".into(),
        Value::map([("TZ", Value::string("Europe/Berlin"))]),
    ));
    let mp_ty = Type::object([
        ("path", Type::String),
        ("source", Type::String),
        ("read_only", Type::Bool),
        ("size", Type::Number),
    ]);
    attrs.push(("mount_point".into(), Type::list(mp_ty)));
    vals.push((
        "mount_point".into(),
        Value::list((0..4).map(|i| {
            Value::object([
                ("path", Value::string(format!("/mnt/media{i}"))),
                ("source", Value::string(format!("/srv/pool/media{i}"))),
                ("read_only", Value::bool(false)),
                ("size", Value::Null),
            ])
        })),
    ));
    let net_ty = Type::object([
        ("name", Type::String),
        ("ip", Type::String),
        ("hwaddr", Type::String),
    ]);
    attrs.push(("network".into(), Type::set(net_ty)));
    vals.push((
        "network".into(),
        Value::set((0..2).map(|i| {
            Value::object([
                ("name", Value::string(format!("eth{i}"))),
                ("ip", Value::string(format!("10.0.{i}.5/24"))),
                ("hwaddr", Value::unknown()),
            ])
        })),
    ));
    let dev_ty = Type::object([
        ("path", Type::String),
        ("gid", Type::Number),
        ("mode", Type::String),
    ]);
    attrs.push(("device".into(), Type::list(dev_ty)));
    vals.push((
        "device".into(),
        Value::list(
            ["/dev/dri/renderD128", "/dev/sr0", "/dev/sg1"]
                .iter()
                .map(|p| {
                    Value::object([
                        ("path", Value::string(*p)),
                        ("gid", Value::int(44)),
                        ("mode", Value::string("0660")),
                    ])
                }),
        ),
    ));
    attrs.push(("raw_lxc".into(), Type::list(Type::String)));
    vals.push((
        "raw_lxc".into(),
        Value::list(
            [
                "lxc.cgroup2.devices.allow: c 226:128 rwm",
                "lxc.mount.entry: /dev/sr0 dev/sr0 none bind,optional,create=file",
            ]
            .map(Value::string),
        ),
    ));
    attrs.push(("extra".into(), Type::Dynamic));
    vals.push((
        "extra".into(),
        Value::dynamic(
            Type::list(Type::Number),
            Value::list([Value::int(1), Value::int(2)]),
        ),
    ));
    assert_eq!(attrs.len(), 40);
    (Type::object(attrs), Value::object(vals))
}

fn bench<M: Measurement>(c: &mut Criterion<M>, group_name: &str) {
    let (ty, value) = container();
    let bytes = msgpack::encode(&value, &ty).expect("encodes");
    let mut group = c.benchmark_group(group_name);
    group.throughput(criterion::Throughput::Bytes(bytes.len() as u64));
    group.bench_function("encode", |b| {
        b.iter(|| msgpack::encode(black_box(&value), black_box(&ty)).expect("encodes"))
    });
    group.bench_function("decode", |b| {
        b.iter(|| msgpack::decode(black_box(&bytes), black_box(&ty)).expect("decodes"))
    });
    group.finish();
}

fn wall(c: &mut Criterion) {
    bench(c, "cty_msgpack_container40_wall");
}

fn cpu(c: &mut Criterion<ThreadCpuTime>) {
    bench(c, "cty_msgpack_container40_cpu");
}

/// CPU time of the benchmarking thread. The reference machine is shared,
/// so wall time mostly measures the neighbours; CPU time measures the code.
struct ThreadCpuTime;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e3, "µs cpu")
        } else {
            (1e6, "ms cpu")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &criterion::Throughput,
        values: &mut [f64],
    ) -> &'static str {
        match throughput {
            criterion::Throughput::Bytes(n) | criterion::Throughput::BytesDecimal(n) => {
                values
                    .iter_mut()
                    .for_each(|v| *v = *n as f64 * 1e9 / *v / (1024.0 * 1024.0));
                "MiB/s cpu"
            }
            _ => {
                values.iter_mut().for_each(|v| *v = 1e9 / *v);
                "elem/s cpu"
            }
        }
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

criterion_group!(wall_benches, wall);
criterion_group! {
    name = cpu_benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = cpu
}
criterion_main!(wall_benches, cpu_benches);
