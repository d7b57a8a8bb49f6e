use std::sync::atomic::Ordering;

use super::exit::FORCE_SIGCHLD;
use super::*;

/// The SIGCHLD path (used where pidfds are missing) notices exits and reaps, like the pidfd one.
#[test]
fn sigchld_fallback_waits_and_reaps() {
    FORCE_SIGCHLD.store(true, Ordering::Relaxed);
    let codes = crate::run(async {
        let mut children: Vec<Child> = (0..8)
            .map(|i| {
                Command::new("sh")
                    .args(["-c", &format!("sleep 0.0{i}; exit {i}")])
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut codes = Vec::new();
        for c in &mut children {
            codes.push(c.wait().await.unwrap().code());
        }
        codes
    });
    FORCE_SIGCHLD.store(false, Ordering::Relaxed);
    assert_eq!(codes, (0..8).map(Some).collect::<Vec<_>>());
}
