//! How long each step of a plan made in steps (`PlanBuilder`, as the
//! dashboard makes it) takes natively, on a synthetic registry of 50k tags
//! in 500 repositories (the generator of `plan_bench`, 100 tags per
//! repository): the longest repository, the longest step of about 12 ms of
//! repositories and kept references, and `finish` (the cross-repository freed bytes). The
//! browser runs the same code as wasm, typically 1.5-3 times slower.
//!
//! Run with `cargo run --release -p cleanreg-core --example plan_steps`
//! (`-- 100000` for another tag count).

use std::time::{Duration, Instant};

use cleanreg_core::{PlanBuilder, Policy, plan};

mod synthetic;
use synthetic::{NOW, POLICY};

/// Tags per repository: 50k tags make 500 repositories, as in the dashboard's benchmark.
const TAGS_PER_REPOSITORY: usize = 100;

fn main() {
    let tags: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    let inventory = synthetic::inventory(tags, TAGS_PER_REPOSITORY);
    let policy = Policy::from_toml(POLICY).expect("the benchmark policy is valid");
    let budget = Duration::from_millis(12);
    let whole = {
        let started = Instant::now();
        let made = plan(&inventory, &policy, NOW);
        println!(
            "plan() at once: {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        made
    };
    let started = Instant::now();
    let mut builder = PlanBuilder::new(&inventory, &policy, NOW);
    let (mut longest_unit, mut longest_step, mut steps) = (Duration::ZERO, Duration::ZERO, 0);
    let mut more = true;
    while more {
        let step = Instant::now();
        loop {
            let one = Instant::now();
            if builder.plan_repositories(1) == 0 && builder.settle(4096) == 0 {
                more = false;
                break;
            }
            longest_unit = longest_unit.max(one.elapsed());
            if step.elapsed() >= budget {
                break;
            }
        }
        longest_step = longest_step.max(step.elapsed());
        steps += 1;
    }
    let finishing = Instant::now();
    let (stepped, by_repository) = builder.finish();
    let finish = finishing.elapsed();
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "{} tags, {} repositories: {steps} steps in {}; longest step {}, longest repository or 4096 references {}, finish {}",
        inventory.tag_count(),
        inventory.repositories.len(),
        ms(started.elapsed()),
        ms(longest_step),
        ms(longest_unit),
        ms(finish),
    );
    assert_eq!(stepped, whole, "the plan made in steps differs from plan()");
    assert_eq!(
        by_repository.iter().map(|r| r.bytes).sum::<u64>(),
        whole.reclaimable.bytes
    );
}
