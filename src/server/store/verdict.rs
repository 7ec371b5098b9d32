//! Whether a claim answered before its transaction committed (see
//! [`super::Store::claim_before_commit`]) was committed after all: the committer says so
//! once, and every attempt the claim started waits for it before writing anything.

use tokio::sync::watch;

/// The committer's side. Dropped without a word (the committer stopped), it counts as a
/// commit that failed.
#[derive(Debug)]
pub(super) struct VerdictSender(watch::Sender<Option<bool>>);

/// The waiting side; cheap to clone, one per attempt.
#[derive(Clone, Debug)]
pub struct CommitVerdict(watch::Receiver<Option<bool>>);

pub(super) fn verdict() -> (VerdictSender, CommitVerdict) {
    let (sender, receiver) = watch::channel(None);
    (VerdictSender(sender), CommitVerdict(receiver))
}

impl VerdictSender {
    pub fn send(self, committed: bool) {
        // No receiver left is fine: nobody is waiting.
        let _ = self.0.send(Some(committed));
    }
}

impl CommitVerdict {
    /// The verdict of a commit that is already durable.
    pub fn committed_already() -> CommitVerdict {
        let (sender, receiver) = verdict();
        sender.send(true);
        receiver
    }

    /// Whether the commit happened, if that is known yet.
    pub fn known(&self) -> Option<bool> {
        *self.0.borrow()
    }

    /// Waits until the commit's fate is known; true when it committed.
    pub async fn committed(&mut self) -> bool {
        match self.0.wait_for(Option::is_some).await {
            Ok(known) => *known == Some(true),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_waiter_learns_the_verdict_even_after_it_was_given() {
        for committed in [true, false] {
            let (sender, mut first) = verdict();
            let mut second = first.clone();
            assert_eq!(second.known(), None);
            let waiting = tokio::spawn(async move { first.committed().await });
            sender.send(committed);
            assert_eq!(second.known(), Some(committed));
            assert_eq!(waiting.await.unwrap(), committed);
            assert_eq!(second.committed().await, committed);
        }
    }

    #[tokio::test]
    async fn a_committer_gone_without_a_verdict_means_not_committed() {
        let (sender, mut waiter) = verdict();
        drop(sender);
        assert!(!waiter.committed().await);
    }
}
