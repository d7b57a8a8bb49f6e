//! gort::fs: file I/O in blocking sections (Go's os package), and gort::io over files.
//! Files live in a per-process temporary directory.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gort::fs::{self, File};
use gort::io::{AsyncWriteExt, BufReader, BufWriter};
use gort::Builder;
use tests::read_lines;

fn rt() -> gort::Runtime {
    Builder::new().procs(2).build().expect("runtime")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gort-fs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + i / 251) as u8).collect()
}

#[test]
fn write_then_read_returns_the_same_bytes() {
    let path = tmp("write_then_read");
    let got = rt().block_on({
        let path = path.clone();
        async move {
            fs::write(&path, pattern(100_000)).await.unwrap();
            fs::read(&path).await.unwrap()
        }
    });
    assert_eq!(got, pattern(100_000));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn read_to_string_reads_utf8_and_rejects_other_bytes() {
    let good = tmp("utf8_good");
    let bad = tmp("utf8_bad");
    rt().block_on({
        let (good, bad) = (good.clone(), bad.clone());
        async move {
            fs::write(&good, "héllo\n").await.unwrap();
            assert_eq!(fs::read_to_string(&good).await.unwrap(), "héllo\n");
            fs::write(&bad, [0xffu8, 0xfe]).await.unwrap();
            let err = fs::read_to_string(&bad).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }
    });
    std::fs::remove_file(good).unwrap();
    std::fs::remove_file(bad).unwrap();
}

#[test]
fn missing_file_is_not_found_not_a_panic() {
    let path = tmp("does_not_exist");
    rt().block_on(async move {
        assert_eq!(
            fs::read(&path).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            File::open(&path).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    });
}

#[test]
fn file_create_write_sync_then_open_read_to_end_round_trips() {
    let path = tmp("file_round_trip");
    rt().block_on({
        let path = path.clone();
        async move {
            let data = pattern(300_000);
            let mut f = File::create(&path).await.unwrap();
            for chunk in data.chunks(7_000) {
                f.write_all(chunk).await.unwrap();
            }
            f.sync_all().await.unwrap();
            drop(f);

            let mut f = File::open(&path).await.unwrap();
            let mut head = [0u8; 10];
            let n = f.read(&mut head).await.unwrap();
            assert_eq!(&head[..n], &data[..n]);
            let mut rest = Vec::new();
            f.read_to_end(&mut rest).await.unwrap();
            assert_eq!(n + rest.len(), data.len());
            assert_eq!(&rest[..], &data[n..]);
            assert_eq!(f.read(&mut head).await.unwrap(), 0, "EOF");
        }
    });
    std::fs::remove_file(path).unwrap();
}

#[test]
fn files_work_with_bufwriter_bufreader_and_read_line() {
    let path = tmp("lines");
    let lines = rt().block_on({
        let path = path.clone();
        async move {
            let mut w = BufWriter::new(File::create(&path).await.unwrap());
            for i in 0..1000 {
                w.write_all(format!("line {i}\n").as_bytes()).await.unwrap();
            }
            w.flush().await.unwrap();
            drop(w);

            let mut r = BufReader::new(File::open(&path).await.unwrap());
            read_lines(&mut r, 1000).await
        }
    });
    assert_eq!(lines.len(), 1000);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l, &format!("line {i}\n"));
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn io_copy_between_files_copies_every_byte() {
    let src = tmp("copy_src");
    let dst = tmp("copy_dst");
    rt().block_on({
        let (src, dst) = (src.clone(), dst.clone());
        async move {
            fs::write(&src, pattern(200_003)).await.unwrap();
            let mut r = File::open(&src).await.unwrap();
            let mut w = File::create(&dst).await.unwrap();
            assert_eq!(gort::io::copy(&mut r, &mut w).await.unwrap(), 200_003);
            drop(w);
            assert_eq!(fs::read(&dst).await.unwrap(), pattern(200_003));
        }
    });
    std::fs::remove_file(src).unwrap();
    std::fs::remove_file(dst).unwrap();
}

#[test]
fn many_gs_doing_file_io_at_once_all_finish() {
    // Each G's file calls hold its M in a blocking section; the others keep running.
    let done = rt().block_on(async {
        let done = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..50)
            .map(|i| {
                let done = done.clone();
                gort::go(async move {
                    let path = tmp(&format!("many_{i}"));
                    fs::write(&path, pattern(10_000 + i)).await.unwrap();
                    assert_eq!(fs::read(&path).await.unwrap(), pattern(10_000 + i));
                    fs::remove_file(&path).await.unwrap();
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        done.load(Ordering::SeqCst)
    });
    assert_eq!(done, 50);
}
