//! Port of golang/go test/chan/powser1.go: "Test concurrency primitives: power series." A power
//! series is a *demand channel* along which rational coefficients flow on request; every operation
//! (add, multiply, differentiate, integrate, exponentiate, substitute) is a G reading its inputs'
//! channels and answering on its own. Doug McIlroy's design ("Squinting at Power Series"), which
//! makes thousands of Gs talk through unbuffered channels and selects — a torture test for them.
//!
//! Copyright 2009 The Go Authors. All rights reserved. Use of this source code is governed by a
//! BSD-style license that can be found in tests/LICENSE-GO. (The port follows Go's structure; the
//! Rust is our own.)
//!
//! Differences: Go's `getn` turns a case off by setting its channel to nil; until gort has nil
//! channels, a turned-off case points at a demand channel nobody serves (never ready, as nil is).
//! Go shares the pair of outputs of `split` between generations through a pointer and swaps its two
//! entries; here that pair is behind a mutex, read at every use as Go reads through the pointer.
//! Go's program exits with its Gs still parked; here `block_on` returns and the runtime drops them.
//! Only the operations the test checks are ported (Go also has Recip, Subst, Binom, Poly, ...).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gort::chan::{channel, Receiver, Sender};

/// A rational; `den == 0` is the end mark (`finis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rat {
    num: i64,
    den: i64,
}

fn gcd(u: i64, v: i64) -> i64 {
    if u < 0 {
        return gcd(-u, v);
    }
    if u == 0 {
        return v;
    }
    gcd(v % u, u)
}

fn i2tor(u: i64, v: i64) -> Rat {
    let g = gcd(u, v);
    if v > 0 {
        Rat {
            num: u / g,
            den: v / g,
        }
    } else {
        Rat {
            num: -u / g,
            den: -v / g,
        }
    }
}

fn itor(u: i64) -> Rat {
    i2tor(u, 1)
}

const ZERO: Rat = Rat { num: 0, den: 1 };
const ONE: Rat = Rat { num: 1, den: 1 };
const FINIS: Rat = Rat { num: 1, den: 0 };

fn end(u: Rat) -> u8 {
    u8::from(u.den == 0)
}

fn add(u: Rat, v: Rat) -> Rat {
    let g = gcd(u.den, v.den);
    i2tor(
        u.num * (v.den / g) + v.num * (u.den / g),
        u.den * (v.den / g),
    )
}

fn mul(u: Rat, v: Rat) -> Rat {
    let g1 = gcd(u.num, v.den);
    let g2 = gcd(u.den, v.num);
    Rat {
        num: (u.num / g1) * (v.num / g2),
        den: (u.den / g2) * (v.den / g1),
    }
}

fn neg(u: Rat) -> Rat {
    i2tor(-u.num, u.den)
}

/// A demand channel: send a request on `req`, get one item on `dat`. Both unbuffered, as in Go.
#[derive(Clone)]
struct Dch {
    req_tx: Sender<u64>,
    req_rx: Receiver<u64>,
    dat_tx: Sender<Rat>,
    dat_rx: Receiver<Rat>,
}

type Ps = Dch;

static SEQNO: AtomicU64 = AtomicU64::new(0);

fn seqno() -> u64 {
    SEQNO.fetch_add(1, Ordering::Relaxed) + 1
}

fn mkdch() -> Dch {
    let (req_tx, req_rx) = channel(0);
    let (dat_tx, dat_rx) = channel(0);
    Dch {
        req_tx,
        req_rx,
        dat_tx,
        dat_rx,
    }
}

/// Go's `dch2` behind its pointer: `dosplit` generations share it and swap its entries.
type Dch2 = Arc<Mutex<[Dch; 2]>>;

fn mkdch2() -> Dch2 {
    Arc::new(Mutex::new([mkdch(), mkdch()]))
}

fn out(o: &Dch2, i: usize) -> Dch {
    o.lock().unwrap()[i].clone()
}

/// `split` reads a single demand channel and replicates its output onto two, which may be read at
/// different rates. A G is created at first demand for an item and dies after the item has been sent
/// to both outputs. (Go's comment, which explains the generations, is in split's `dosplit`.)
fn dosplit(input: Dch, o: Dch2, wait: Receiver<i32>) -> gort::JoinHandle<()> {
    gort::go(async move {
        let mut both = false; // do not service both channels
        let (o0, o1) = (out(&o, 0), out(&o, 1));
        gort::select! {
            recv(o0.req_rx) -> _ => {}
            recv(wait) -> _ => {
                both = true;
                gort::select! {
                    recv(o0.req_rx) -> _ => {}
                    recv(o1.req_rx) -> _ => { o.lock().unwrap().swap(0, 1); }
                }
            }
        }
        input.req_tx.send(seqno()).await.unwrap();
        let (release, release_rx) = channel::<i32>(0);
        dosplit(input.clone(), o.clone(), release_rx);
        let dat = input.dat_rx.recv().await.unwrap();
        out(&o, 0).dat_tx.send(dat).await.unwrap();
        if !both {
            wait.recv().await;
        }
        out(&o, 1).req_rx.recv().await.unwrap();
        out(&o, 1).dat_tx.send(dat).await.unwrap();
        release.send(0).await.unwrap();
    })
}

/// Go's `split`: start the first generation and release it (here from a G: Go's caller blocks on
/// that send, which only the first generation ever takes).
fn split(input: Dch, o: Dch2) {
    let (release, release_rx) = channel::<i32>(0);
    dosplit(input, o, release_rx);
    gort::go(async move { release.send(0).await.unwrap() });
}

async fn put(dat: Rat, out: &Dch) {
    out.req_rx.recv().await.unwrap();
    out.dat_tx.send(dat).await.unwrap();
}

async fn get(input: &Dch) -> Rat {
    input.req_tx.send(seqno()).await.unwrap();
    input.dat_rx.recv().await.unwrap()
}

/// Get one item from each of 2 demand channels, requesting and reading in whatever order they
/// become ready (Go's `getn` with n = 2). A finished case is pointed at `never` (Go: nil).
async fn get2(in0: &Dch, in1: &Dch) -> [Rat; 2] {
    let never = mkdch();
    let mut req = [Some(in0.req_tx.clone()), Some(in1.req_tx.clone())];
    let mut dat: [Option<Receiver<Rat>>; 2] = [None, None];
    let mut res = [ZERO; 2];
    let ins = [in0, in1];
    for _ in 0..4 {
        let r0 = req[0].clone().unwrap_or_else(|| never.req_tx.clone());
        let r1 = req[1].clone().unwrap_or_else(|| never.req_tx.clone());
        let d0 = dat[0].clone().unwrap_or_else(|| never.dat_rx.clone());
        let d1 = dat[1].clone().unwrap_or_else(|| never.dat_rx.clone());
        let s = seqno();
        gort::select! {
            send(r0, s) -> r => { r.unwrap(); dat[0] = Some(ins[0].dat_rx.clone()); req[0] = None; }
            send(r1, s) -> r => { r.unwrap(); dat[1] = Some(ins[1].dat_rx.clone()); req[1] = None; }
            recv(d0) -> it => { res[0] = it.unwrap(); dat[0] = None; }
            recv(d1) -> it => { res[1] = it.unwrap(); dat[1] = None; }
        }
    }
    res
}

/// Go's `copy`: serve `out`'s demands from `input`, forever.
async fn copy(input: &Dch, out: &Dch) {
    loop {
        out.req_rx.recv().await.unwrap();
        let v = get(input).await;
        out.dat_tx.send(v).await.unwrap();
    }
}

#[allow(non_snake_case)]
fn Split(u: Ps) -> Dch2 {
    let uu = mkdch2();
    split(u, uu.clone());
    uu
}

#[allow(non_snake_case)]
fn Rep(c: Rat) -> Ps {
    let z = mkdch();
    let zz = z.clone();
    gort::go(async move {
        loop {
            put(c, &zz).await;
        }
    });
    z
}

#[allow(non_snake_case)]
fn Add(u: Ps, v: Ps) -> Ps {
    let z = mkdch();
    let zz = z.clone();
    gort::go(async move {
        loop {
            zz.req_rx.recv().await.unwrap();
            let uv = get2(&u, &v).await;
            match end(uv[0]) + 2 * end(uv[1]) {
                0 => zz.dat_tx.send(add(uv[0], uv[1])).await.unwrap(),
                1 => {
                    zz.dat_tx.send(uv[1]).await.unwrap();
                    copy(&v, &zz).await;
                }
                2 => {
                    zz.dat_tx.send(uv[0]).await.unwrap();
                    copy(&u, &zz).await;
                }
                _ => zz.dat_tx.send(FINIS).await.unwrap(),
            }
        }
    });
    z
}

#[allow(non_snake_case)]
fn Cmul(c: Rat, u: Ps) -> Ps {
    let z = mkdch();
    let zz = z.clone();
    gort::go(async move {
        loop {
            zz.req_rx.recv().await.unwrap();
            let x = get(&u).await;
            if end(x) != 0 {
                break;
            }
            zz.dat_tx.send(mul(c, x)).await.unwrap();
        }
        zz.dat_tx.send(FINIS).await.unwrap();
    });
    z
}

#[allow(non_snake_case)]
fn Sub(u: Ps, v: Ps) -> Ps {
    Add(u, Cmul(neg(ONE), v))
}

/// Multiply: with U = u + x*UU and V = v + x*VV, UV = u*v + x*(u*VV + v*UU) + x*x*UU*VV.
#[allow(non_snake_case)]
fn Mul(u: Ps, v: Ps) -> Ps {
    let z = mkdch();
    let zz = z.clone();
    gort::go(async move {
        zz.req_rx.recv().await.unwrap();
        let uv = get2(&u, &v).await;
        if end(uv[0]) != 0 || end(uv[1]) != 0 {
            zz.dat_tx.send(FINIS).await.unwrap();
            return;
        }
        zz.dat_tx.send(mul(uv[0], uv[1])).await.unwrap();
        let uu = Split(u);
        let vv = Split(v);
        let w = Add(Cmul(uv[0], out(&vv, 0)), Cmul(uv[1], out(&uu, 0)));
        zz.req_rx.recv().await.unwrap();
        let first = get(&w).await;
        zz.dat_tx.send(first).await.unwrap();
        copy(&Add(w, Mul(out(&uu, 1), out(&vv, 1))), &zz).await;
    });
    z
}

#[allow(non_snake_case)]
fn Diff(u: Ps) -> Ps {
    let z = mkdch();
    let zz = z.clone();
    gort::go(async move {
        zz.req_rx.recv().await.unwrap();
        if end(get(&u).await) == 0 {
            let mut i = 1;
            loop {
                let x = get(&u).await;
                if end(x) != 0 {
                    break;
                }
                zz.dat_tx.send(mul(itor(i), x)).await.unwrap();
                zz.req_rx.recv().await.unwrap();
                i += 1;
            }
        }
        zz.dat_tx.send(FINIS).await.unwrap();
    });
    z
}

/// Integrate, with constant of integration `c`.
#[allow(non_snake_case)]
fn Integ(c: Rat, u: Ps) -> Ps {
    let z = mkdch();
    let zz = z.clone();
    gort::go(async move {
        put(c, &zz).await;
        let mut i = 1;
        loop {
            zz.req_rx.recv().await.unwrap();
            let x = get(&u).await;
            if end(x) != 0 {
                break;
            }
            zz.dat_tx.send(mul(i2tor(1, i), x)).await.unwrap();
            i += 1;
        }
        zz.dat_tx.send(FINIS).await.unwrap();
    });
    z
}

/// Exponential of a power series with constant term 0: Z = exp(U), DZ = Z*DU, integrate to get Z.
#[allow(non_snake_case)]
fn Exp(u: Ps) -> Ps {
    let zz = mkdch2();
    split(Integ(ONE, Mul(out(&zz, 0), Diff(u))), zz.clone());
    out(&zz, 1)
}

/// Monomial substitution U(c0 x^n): each U_i is multiplied by c0^i and followed by n-1 zeros.
#[allow(non_snake_case)]
fn MonSubst(u: Ps, c0: Rat, n: usize) -> Ps {
    let z = mkdch();
    let zz = z.clone();
    gort::go(async move {
        let mut c = ONE;
        loop {
            zz.req_rx.recv().await.unwrap();
            let x = get(&u).await;
            zz.dat_tx.send(mul(x, c)).await.unwrap();
            c = mul(c, c0);
            if end(x) != 0 {
                zz.dat_tx.send(FINIS).await.unwrap();
                break;
            }
            for _ in 1..n {
                zz.req_rx.recv().await.unwrap();
                zz.dat_tx.send(ZERO).await.unwrap();
            }
        }
    });
    z
}

async fn check(u: &Ps, c: Rat, count: usize, what: &str) {
    for _ in 0..count {
        let r = get(u).await;
        assert_eq!(r, c, "{what}");
    }
}

async fn checka(u: &Ps, a: &[Rat], what: &str) {
    for (i, &c) in a.iter().enumerate() {
        let r = get(u).await;
        assert_eq!(r, c, "{what}: coefficient {i}");
    }
}

#[test]
fn powser1_power_series_as_demand_channels() {
    const N: i64 = 10;
    let rt = gort::Builder::new().procs(2).build().expect("runtime");
    rt.block_on(async {
        let ones = Rep(ONE);
        let twos = Rep(itor(2));
        check(&ones, ONE, 5, "Ones").await;
        check(
            &Add(ones.clone(), ones.clone()),
            itor(2),
            0,
            "Add Ones Ones",
        )
        .await;
        check(
            &Add(ones.clone(), twos.clone()),
            itor(3),
            0,
            "Add Ones Twos",
        )
        .await;
        // Go's checks of Add with count 0 read nothing; this port also reads five terms.
        check(
            &Add(ones.clone(), twos.clone()),
            itor(3),
            5,
            "Add Ones Twos",
        )
        .await;
        let a: Vec<Rat> = (0..N).map(|i| itor(i + 1)).collect();
        checka(&Diff(ones.clone()), &a, "Diff").await; // 1 2 3 4 5
        let a: Vec<Rat> = (0..N)
            .map(|i| if i == 0 { ZERO } else { i2tor(1, i) })
            .collect();
        checka(&Integ(ZERO, ones.clone()), &a, "Integ").await; // 0 1 1/2 1/3 1/4 1/5
        check(&Cmul(neg(ONE), twos.clone()), itor(-2), 10, "CMul").await; // -2 -2 -2
        check(
            &Sub(ones.clone(), twos.clone()),
            itor(-1),
            0,
            "Sub Ones Twos",
        )
        .await;
        check(
            &Sub(ones.clone(), twos.clone()),
            itor(-1),
            5,
            "Sub Ones Twos",
        )
        .await;
        let a: Vec<Rat> = (0..N).map(|i| itor(i + 1)).collect();
        checka(&Mul(ones.clone(), ones.clone()), &a, "Mul").await; // 1 2 3 4 5
        let a = [
            itor(1),
            itor(1),
            i2tor(3, 2),
            i2tor(13, 6),
            i2tor(73, 24),
            i2tor(167, 40),
            i2tor(4051, 720),
            i2tor(37633, 5040),
            i2tor(43817, 4480),
            i2tor(4596553, 362880),
        ];
        checka(&Exp(ones.clone()), &a, "Exp").await; // 1 1 3/2 13/6 73/24
        let mut c = 1;
        let a: Vec<Rat> = (0..N)
            .map(|i| {
                if i % 2 == 0 {
                    ZERO
                } else {
                    let r = i2tor(c, i);
                    c = -c;
                    r
                }
            })
            .collect();
        // ATan: 0 1 0 -1/3 0 1/5 ...
        checka(
            &Integ(ZERO, MonSubst(ones.clone(), neg(ONE), 2)),
            &a,
            "ATan",
        )
        .await;
    });
}
