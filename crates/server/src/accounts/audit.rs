//! The audit trail's writer: entries are queued and written in batches (at most one
//! transaction per `FLUSH`), so auditing every STA write costs the ingest path a channel send,
//! not a commit. An entry is written after the change it records has been committed; a crash
//! in between can lose the last second of entries, never a change's data.

use std::sync::Arc;
use std::time::Duration;
use store::accounts::{AccountStore, AuditRecord};
use tokio::sync::{mpsc, oneshot};

const FLUSH: Duration = Duration::from_millis(200);
const QUEUE: usize = 65_536;

enum Message {
    Entry(AuditRecord),
    /// Write everything queued before this now, then answer.
    Flush(oneshot::Sender<()>),
}

/// Cheap to clone: every clone feeds the same writer.
#[derive(Clone)]
pub struct AuditLog {
    tx: Option<mpsc::Sender<Message>>,
}

impl AuditLog {
    pub fn start(store: Option<Arc<dyn AccountStore>>) -> AuditLog {
        let Some(store) = store else {
            return AuditLog { tx: None };
        };
        // Outside a runtime (unit tests of the config) there is nobody to write.
        if tokio::runtime::Handle::try_current().is_err() {
            return AuditLog { tx: None };
        }
        let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut waiting = Vec::new();
                match first {
                    Message::Entry(e) => batch.push(e),
                    Message::Flush(done) => waiting.push(done),
                }
                let deadline = tokio::time::sleep(FLUSH);
                tokio::pin!(deadline);
                while waiting.is_empty() && batch.len() < 1000 {
                    tokio::select! {
                        m = rx.recv() => match m {
                            Some(Message::Entry(e)) => batch.push(e),
                            Some(Message::Flush(done)) => waiting.push(done),
                            None => break,
                        },
                        _ = &mut deadline => break,
                    }
                }
                let n = batch.len();
                if n > 0
                    && let Err(e) = store.append_audit(std::mem::take(&mut batch)).await
                {
                    tracing::error!(error = %e, entries = n, "audit entries not written");
                }
                for done in waiting {
                    let _ = done.send(());
                }
            }
        });
        AuditLog { tx: Some(tx) }
    }

    /// Queues an entry; a full queue is logged (the change itself has happened).
    pub fn record(&self, entry: AuditRecord) {
        if let Some(tx) = &self.tx
            && tx.try_send(Message::Entry(entry)).is_err()
        {
            tracing::error!("audit queue full: an entry was dropped");
        }
    }

    /// Waits until everything queued so far is written (tests, and the shutdown, before the
    /// store closes).
    pub async fn flush(&self) {
        let Some(tx) = &self.tx else { return };
        let (done, written) = oneshot::channel();
        if tx.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}
