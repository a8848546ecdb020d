"""The worker's timed jobs, run by APScheduler 3.x (this is the only module that imports it).

Jobs are listed in JOBS: a new job is a function plus one line there. Timers are not the source of
truth: each job derives what is due from stored state, so a restart loses nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("fieldsync.scheduler")


@dataclass(frozen=True)
class Job:
    """A function run every `interval_s` seconds; overlapping runs are skipped, not queued."""
    name: str
    func: Callable[[], object]
    interval_s: float


def start_scheduler(jobs: list[Job]) -> BackgroundScheduler:
    """Start a background scheduler running `jobs`; the caller shuts it down."""
    # one thread per job: a long reconciliation never delays an alert delivery
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(max(1, len(jobs)))},
                                    job_defaults={"coalesce": True, "max_instances": 1,
                                                  "misfire_grace_time": 30},
                                    timezone="UTC")
    for job in jobs:
        # first run at once (a worker that starts has work waiting), then every interval
        scheduler.add_job(_logged(job), "interval", seconds=job.interval_s, id=job.name,
                          name=job.name, next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    return scheduler


def _logged(job: Job) -> Callable[[], None]:
    def run() -> None:
        try:
            job.func()
        except Exception:  # one failing run must not stop the schedule
            log.exception("job %s failed", job.name)
    run.__name__ = job.name
    return run
