//! `gort::fs::watch`: an inotify instance on the netpoller. Creating, writing, renaming and
//! deleting files in a watched directory arrive as events with their names, in order; a rename's
//! two halves share a cookie; a G waiting for events parks on the descriptor (its P runs others).

#![cfg(target_os = "linux")]

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use gort::fs::watch::{Event, EventKind, Mask, Watcher};
use gort::time::timeout;
use tests::run_within;

const LIMIT: Duration = Duration::from_secs(20);

fn temp_dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gort-watch-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The next event, or a failure after 5 s.
async fn next(w: &mut Watcher) -> Event {
    match timeout(Duration::from_secs(5), w.next_event()).await {
        Ok(ev) => ev.unwrap(),
        Err(_) => panic!("no event within 5s"),
    }
}

#[test]
fn create_modify_move_and_delete_arrive_in_order_with_their_names() {
    let dir = temp_dir("order");
    let d = dir.clone();
    let evs = run_within(2, LIMIT, async move {
        let mut w = Watcher::new().unwrap();
        w.add(&d, Mask::CREATE | Mask::MODIFY | Mask::MOVE | Mask::DELETE)
            .unwrap();
        // The changes are made by another G, in a blocking section, while this one waits.
        let d2 = d.clone();
        let changer = gort::go(async move {
            gort::blocking(|| {
                std::fs::write(d2.join("a"), b"x").unwrap(); // create, modify
                std::fs::rename(d2.join("a"), d2.join("b")).unwrap(); // moved from, moved to
                std::fs::remove_file(d2.join("b")).unwrap(); // delete
            })
        });
        let mut evs = Vec::new();
        while evs.len() < 5 {
            evs.push(next(&mut w).await);
        }
        changer.await.unwrap();
        evs
    });
    let kinds: Vec<(EventKind, String)> = evs
        .iter()
        .map(|e| {
            (
                e.kind,
                e.name.as_ref().unwrap().to_string_lossy().into_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Create, "a".to_string()),
            (EventKind::Modify, "a".to_string()),
            (EventKind::MovedFrom, "a".to_string()),
            (EventKind::MovedTo, "b".to_string()),
            (EventKind::Delete, "b".to_string()),
        ]
    );
    assert_ne!(evs[2].cookie, 0);
    assert_eq!(
        evs[2].cookie, evs[3].cookie,
        "a rename's halves share a cookie"
    );
    assert_eq!(evs[0].path(), Some(dir.join("a")));
    assert!(!evs[0].is_dir());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_watcher_is_a_stream_and_reports_a_removed_watch() {
    let dir = temp_dir("stream");
    let d = dir.clone();
    let kinds = run_within(1, LIMIT, async move {
        let mut w = Watcher::new().unwrap();
        let sub = d.join("sub");
        std::fs::create_dir(&sub).unwrap();
        w.add(&d, Mask::CREATE).unwrap();
        let id = w.add(&sub, Mask::DELETE_SELF).unwrap();
        std::fs::create_dir(d.join("newdir")).unwrap();
        let ev = timeout(Duration::from_secs(5), w.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(ev.is_dir());
        assert_eq!(ev.name.as_deref(), Some("newdir".as_ref()));
        w.remove(id).unwrap();
        let ev = timeout(Duration::from_secs(5), w.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(ev.watched.as_deref(), Some(sub.as_path()));
        ev.kind
    });
    assert_eq!(kinds, EventKind::Removed);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn watching_a_missing_path_is_not_found() {
    run_within(1, LIMIT, async {
        let w = Watcher::new().unwrap();
        let err = w.add("/nonexistent/gort/watch", Mask::ALL).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    });
}
