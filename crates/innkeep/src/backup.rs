//! Backups of the embedded tier: `innkeep backup create|verify|restore`.
//!
//! A backup is a directory: a consistent online snapshot of the SQLite database
//! (`VACUUM INTO`, taken while the server runs), copies of the client-event log and of the
//! local object store, and `manifest.json` with every file's size and SHA-256. Verifying
//! recomputes the checksums and runs SQLite's integrity check on the snapshot; restoring
//! verifies first and refuses a data directory that already holds a database.
//! PostgreSQL deployments back up with pgBackRest instead (not built yet).

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use sqlx::Connection;
use std::path::{Path, PathBuf};

/// What a backup holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: jiff::Timestamp,
    pub innkeep_version: String,
    /// The newest outbox event in the snapshot: everything committed before it is in.
    pub last_event_seq: i64,
    pub bookings: i64,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the backup (and to the data directory).
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

const DATABASE: &str = "innkeep.db";
/// The directories of the data directory a backup copies besides the database.
const DIRECTORIES: [&str; 2] = ["client-events", "objects"];

fn sha256(path: &Path) -> anyhow::Result<(u64, String)> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Every file under `dir`, relative to `root`, in a stable order.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        if e.file_type()?.is_dir() {
            files_under(root, &path, out)?;
        } else {
            out.push(path.strip_prefix(root)?.to_path_buf());
        }
    }
    Ok(())
}

async fn sqlite(path: &Path, read_only: bool) -> anyhow::Result<sqlx::SqliteConnection> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(read_only);
    sqlx::SqliteConnection::connect_with(&opts).await.with_context(|| format!("opening {}", path.display()))
}

/// Take a backup of `data` into `to` (a new or empty directory).
pub async fn create(data: &Path, to: &Path) -> anyhow::Result<Manifest> {
    let db = data.join(DATABASE);
    ensure!(db.exists(), "no embedded database at {} (PostgreSQL is backed up with pgBackRest)", db.display());
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    ensure!(std::fs::read_dir(to)?.next().is_none(), "{} is not empty", to.display());
    // One consistent snapshot while writers go on (SQLite copies a read transaction's view).
    let mut conn = sqlite(&db, false).await?;
    let target = to.join(DATABASE);
    sqlx::query("VACUUM INTO ?").bind(target.to_string_lossy().to_string()).execute(&mut conn).await?;
    conn.close().await?;
    for dir in DIRECTORIES {
        let mut files = Vec::new();
        files_under(data, &data.join(dir), &mut files)?;
        for f in files {
            let dest = to.join(&f);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(data.join(&f), &dest).with_context(|| format!("copying {}", f.display()))?;
        }
    }
    let mut snapshot = sqlite(&target, true).await?;
    let last_event_seq: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetch_one(&mut snapshot).await?;
    let bookings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings").fetch_one(&mut snapshot).await?;
    snapshot.close().await?;
    let mut files = Vec::new();
    files_under(to, to, &mut files)?;
    let mut entries = Vec::new();
    for f in files {
        let (size, sha256) = sha256(&to.join(&f))?;
        entries.push(FileEntry { path: f.to_string_lossy().replace('\\', "/"), size, sha256 });
    }
    let manifest = Manifest {
        format: 1,
        created_at: jiff::Timestamp::now(),
        innkeep_version: env!("CARGO_PKG_VERSION").to_string(),
        last_event_seq,
        bookings,
        files: entries,
    };
    std::fs::write(to.join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Check a backup: every file of the manifest present with its size and checksum, no file
/// besides them, and the database snapshot whole.
pub async fn verify(from: &Path) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join("manifest.json"))
            .with_context(|| format!("reading {}/manifest.json", from.display()))?,
    )
    .context("reading the manifest")?;
    ensure!(manifest.format == 1, "backup format {} is not known to this version", manifest.format);
    for f in &manifest.files {
        ensure!(!f.path.contains(".."), "the manifest names a path outside the backup: {}", f.path);
        let (size, sha) = sha256(&from.join(&f.path)).with_context(|| format!("{} is missing", f.path))?;
        if size != f.size || sha != f.sha256 {
            bail!("{} has changed since the backup was made", f.path);
        }
    }
    let mut present = Vec::new();
    files_under(from, from, &mut present)?;
    for p in present {
        let p = p.to_string_lossy().replace('\\', "/");
        ensure!(p == "manifest.json" || manifest.files.iter().any(|f| f.path == p), "{p} is not in the manifest");
    }
    let mut db = sqlite(&from.join(DATABASE), true).await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut db).await?;
    db.close().await?;
    ensure!(check == "ok", "the database snapshot is damaged: {check}");
    Ok(manifest)
}

/// Restore a verified backup into `data`, which must not hold a database yet.
pub async fn restore(from: &Path, data: &Path) -> anyhow::Result<Manifest> {
    let manifest = verify(from).await?;
    ensure!(
        !data.join(DATABASE).exists(),
        "{} already holds a database; restore into a fresh directory",
        data.display()
    );
    for f in &manifest.files {
        let dest = data.join(&f.path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from.join(&f.path), &dest).with_context(|| format!("restoring {}", f.path))?;
    }
    Ok(manifest)
}
