//! Execution tracer hooks (no-ops until the tracer lands).
#![allow(dead_code)]

use crate::g::PollResult;
use crate::getg::MCtx;
use crate::sched::YieldReason;

#[inline(always)]
pub(crate) fn m_start(_ctx: &MCtx) {}
#[inline(always)]
pub(crate) fn m_stop(_ctx: &MCtx) {}
#[inline(always)]
pub(crate) fn m_park(_ctx: &MCtx) {}
#[inline(always)]
pub(crate) fn m_unpark(_ctx: &MCtx) {}
#[inline(always)]
pub(crate) fn proc_start(_ctx: &MCtx, _p: usize) {}
#[inline(always)]
pub(crate) fn proc_stop(_ctx: &MCtx, _p: usize) {}
#[inline(always)]
pub(crate) fn go_start(_ctx: &MCtx, _p: usize, _g: u64) {}
#[inline(always)]
pub(crate) fn go_end(_ctx: &MCtx, _p: usize, _g: u64, _res: &PollResult, _why: YieldReason) {}
#[inline(always)]
pub(crate) fn steal(_ctx: &MCtx, _victim: usize, _thief: usize, _n: usize) {}
#[inline(always)]
pub(crate) fn netpoll_batch(_n: usize) {}
#[inline(always)]
pub(crate) fn go_create(_g: u64) {}
#[inline(always)]
pub(crate) fn syscall_enter(_ctx: &MCtx, _p: usize) {}
#[inline(always)]
pub(crate) fn syscall_exit(_ctx: &MCtx, _p: usize, _fast: bool) {}
#[inline(always)]
pub(crate) fn preempt_request(_p: usize) {}
#[inline(always)]
pub(crate) fn handoff(_p: usize, _m: usize) {}
#[inline(always)]
pub(crate) fn rescue(_p: usize, _m: usize, _g: u64) {}
pub(crate) fn start_from_env() {}
pub(crate) fn flush_on_shutdown(_s: &crate::sched::Sched) {}
/// A G became runnable (`Sched::ready`). The unblocker is found from the thread's context: the G
/// being polled, the timer or netpoll batch, sysmon, or a foreign thread.
#[inline(always)]
pub(crate) fn go_unblock(_g: u64) {}
