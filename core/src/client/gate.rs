//! How many requests are on the wire at once, adapted to the registry's
//! answers.
//!
//! The client's jobs each keep up to [`Client::concurrency`](super::Client)
//! requests going, and apply runs several repositories side by side; every
//! attempt passes this gate first. The gate lets `limit` attempts through at
//! a time. It starts at the configured concurrency (the ceiling). A 429 or
//! 503 halves it (down to 1): the registry or a proxy in front of it is
//! saying it has too much to do, and sending as much again after the pause
//! would get the same answer. Every `limit` answers in a row without one
//! raise it by one again, up to the ceiling. A registry that never limits
//! its rate never sees the gate.
//!
//! No lock is held across an `await`; a waiting attempt leaves its waker,
//! and every change wakes all waiters to look again (there are at most as
//! many as the jobs keep going).

use std::future::poll_fn;
use std::sync::{Mutex, MutexGuard};
use std::task::{Poll, Waker};

pub(crate) struct Gate {
    state: Mutex<State>,
}

struct State {
    ceiling: usize,
    limit: usize,
    in_flight: usize,
    /// Answers since the last change of `limit` without a 429 or 503.
    calm: usize,
    waiting: Vec<Waker>,
}

/// One attempt's place on the wire; leaving it (drop) lets the next in.
pub(crate) struct Pass<'a> {
    gate: &'a Gate,
}

impl Gate {
    pub(crate) fn new(ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        Gate {
            state: Mutex::new(State {
                ceiling,
                limit: ceiling,
                in_flight: 0,
                calm: 0,
                waiting: Vec::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Attempts let through at once right now.
    #[cfg(test)]
    pub(crate) fn limit(&self) -> usize {
        self.state().limit
    }

    /// Waits for a place under the limit.
    pub(crate) async fn enter(&self) -> Pass<'_> {
        poll_fn(|context| {
            let mut state = self.state();
            if state.in_flight < state.limit {
                state.in_flight += 1;
                Poll::Ready(())
            } else {
                state.waiting.push(context.waker().clone());
                Poll::Pending
            }
        })
        .await;
        Pass { gate: self }
    }

    /// Takes in one answer's status: a 429 or 503 halves the limit, a run
    /// of `limit` other answers raises it by one.
    pub(crate) fn answered(&self, status: u16) {
        let mut state = self.state();
        if matches!(status, 429 | 503) {
            state.limit = (state.limit / 2).max(1);
            state.calm = 0;
            return;
        }
        state.calm += 1;
        if state.calm >= state.limit && state.limit < state.ceiling {
            state.limit += 1;
            state.calm = 0;
            wake_all(&mut state);
        }
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        let mut state = self.gate.state();
        state.in_flight -= 1;
        wake_all(&mut state);
    }
}

fn wake_all(state: &mut State) {
    for waker in state.waiting.drain(..) {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::Context;

    use super::*;

    /// Polls `future` once; `Some` when it finished.
    fn poll_once<F: Future>(future: F) -> Option<F::Output> {
        let mut future = pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        }
    }

    #[test]
    fn lets_the_ceiling_through_and_holds_the_next() {
        let gate = Gate::new(3);
        let passes: Vec<_> = (0..3).map(|_| poll_once(gate.enter()).unwrap()).collect();
        assert!(poll_once(gate.enter()).is_none());
        drop(passes);
        assert!(poll_once(gate.enter()).is_some());
    }

    #[test]
    fn a_rate_limit_halves_the_limit_and_calm_answers_raise_it_again() {
        let gate = Gate::new(8);
        gate.answered(429);
        assert_eq!(gate.limit(), 4);
        gate.answered(503);
        gate.answered(503);
        gate.answered(503);
        assert_eq!(gate.limit(), 1, "never below one");
        // One calm answer at limit 1 raises it to 2, two more to 3, ...
        let mut answers = 0;
        while gate.limit() < 8 {
            gate.answered(200);
            answers += 1;
        }
        assert_eq!(answers, 1 + 2 + 3 + 4 + 5 + 6 + 7);
        for _ in 0..100 {
            gate.answered(404);
        }
        assert_eq!(gate.limit(), 8, "never above the ceiling");
    }

    #[test]
    fn attempts_already_through_finish_but_no_new_one_enters_above_the_lowered_limit() {
        let gate = Gate::new(4);
        let mut passes: Vec<_> = (0..4).map(|_| poll_once(gate.enter()).unwrap()).collect();
        gate.answered(429);
        assert_eq!(gate.limit(), 2);
        passes.pop();
        assert!(poll_once(gate.enter()).is_none(), "3 in flight, limit 2");
        passes.pop();
        assert!(poll_once(gate.enter()).is_none(), "2 in flight, limit 2");
        passes.pop();
        assert!(poll_once(gate.enter()).is_some());
    }
}
