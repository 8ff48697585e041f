//! CPU time and resident memory of the processes under test, read from /proc.

use std::time::Instant;

use serde::Serialize;

/// Clock ticks per second in /proc/<pid>/stat; Linux fixes USER_HZ at 100 on every
/// architecture it exposes to user space.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system) the process has used so far.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15, i.e. the 12th and 13th after the name.
    let utime: f64 = fields[11].parse()?;
    let stime: f64 = fields[12].parse()?;
    Ok((utime + stime) / TICKS_PER_SECOND)
}

/// Resident memory in bytes.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))?
        .parse::<u64>()?;
    Ok(kib * 1024)
}

/// Resource use of a set of processes over an interval.
pub struct Usage {
    pids: Vec<u32>,
    started: Instant,
    cpu_at_start: f64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct UsageReport {
    /// CPU seconds per wall-clock second: 1.0 is one core busy.
    pub cores_busy: f64,
    pub cpu_seconds: f64,
    /// Resident memory at the end, summed over the processes.
    pub rss_bytes: u64,
}

impl Usage {
    pub fn start(pids: &[u32]) -> Usage {
        Usage {
            pids: pids.to_vec(),
            started: Instant::now(),
            cpu_at_start: total_cpu(pids),
        }
    }

    pub fn finish(&self) -> UsageReport {
        let cpu = total_cpu(&self.pids) - self.cpu_at_start;
        UsageReport {
            cores_busy: cpu / self.started.elapsed().as_secs_f64(),
            cpu_seconds: cpu,
            rss_bytes: self
                .pids
                .iter()
                .filter_map(|pid| rss_bytes(*pid).ok())
                .sum(),
        }
    }
}

fn total_cpu(pids: &[u32]) -> f64 {
    pids.iter().filter_map(|pid| cpu_seconds(*pid).ok()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).unwrap() >= 0.0);
        assert!(rss_bytes(pid).unwrap() > 0);
    }
}
