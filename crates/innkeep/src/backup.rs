//! Backups of the embedded tier: `innkeep backup create|verify|restore`.
//!
//! A backup is a directory, or the same files under a prefix of an S3 bucket
//! (`s3://BUCKET/PREFIX`, on the S3 API and with the keys configured in `[storage]`): a
//! consistent online snapshot of the SQLite database (`VACUUM INTO`, taken while the server
//! runs), copies of the client-event log and of the local object store, and `manifest.json`
//! with every file's size and SHA-256. Verifying recomputes the checksums and runs SQLite's
//! integrity check on the snapshot; restoring verifies first and refuses a data directory
//! that already holds a database. In a bucket the manifest is written last, so a backup cut
//! short has none and neither verifies nor restores; verifying or restoring from a bucket
//! downloads the files first (into the system's temporary directory, or into the data
//! directory being restored). PostgreSQL deployments back up with pgBackRest
//! (`deploy/local`, `deploy/openstack`).

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
const MANIFEST: &str = "manifest.json";

/// Where a backup is.
pub enum Place {
    Directory(PathBuf),
    /// Under `prefix` (empty: the whole bucket) in a bucket.
    Bucket {
        objects: innkeep_objects::Objects,
        prefix: String,
        url: String,
    },
}

impl Place {
    /// `s3://BUCKET[/PREFIX]` (on the S3 API of `config`'s `[storage]`), or a directory.
    pub fn parse(at: &str, config: &crate::config::Config) -> anyhow::Result<Place> {
        let Some(rest) = at.strip_prefix("s3://") else { return Ok(Place::Directory(PathBuf::from(at))) };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_end_matches('/').to_string();
        ensure!(!bucket.is_empty(), "{at:?} names no bucket (s3://BUCKET/PREFIX)");
        ensure!(
            prefix.is_empty() || innkeep_app::objects::valid_key(&prefix),
            "{at:?}: the prefix may hold letters, digits, '.', '_', '-' and '/' between names"
        );
        let objects = innkeep_objects::open(&crate::parts::bucket_location(config, bucket))
            .with_context(|| format!("opening {at}"))?;
        Ok(Place::Bucket { objects, prefix, url: at.to_string() })
    }

    fn key(prefix: &str, file: &str) -> String {
        if prefix.is_empty() { file.to_string() } else { format!("{prefix}/{file}") }
    }
}

/// Take a backup of `data` into `to`.
pub async fn create_at(data: &Path, to: &Place) -> anyhow::Result<Manifest> {
    let (objects, prefix, url) = match to {
        Place::Directory(dir) => return create(data, dir).await,
        Place::Bucket { objects, prefix, url } => (objects, prefix, url),
    };
    ensure!(objects.keys_under(prefix).await?.is_empty(), "{url} is not empty");
    // The snapshot is taken on the data directory's disk, then sent up.
    let staging = tempfile::Builder::new().prefix(".backup-").tempdir_in(data)?;
    let manifest = create(data, staging.path()).await?;
    for f in manifest.files.iter().map(|f| f.path.as_str()).chain([MANIFEST]) {
        objects
            .upload_file(&Place::key(prefix, f), &staging.path().join(f))
            .await
            .with_context(|| format!("sending {f} to {url}"))?;
    }
    Ok(manifest)
}

/// Download a backup's files from a bucket into `into`.
async fn download(objects: &innkeep_objects::Objects, prefix: &str, url: &str, into: &Path) -> anyhow::Result<()> {
    let keys = objects.keys_under(prefix).await?;
    ensure!(keys.iter().any(|k| *k == Place::key(prefix, MANIFEST)), "{url} holds no backup (no {MANIFEST})");
    for key in keys {
        let file =
            if prefix.is_empty() { key.as_str() } else { key.strip_prefix(&format!("{prefix}/")).unwrap_or(&key) };
        let dest = into.join(file);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        objects.download_file(&key, &dest).await.with_context(|| format!("fetching {key} from {url}"))?;
    }
    Ok(())
}

/// Check a backup wherever it is.
pub async fn verify_at(from: &Place) -> anyhow::Result<Manifest> {
    match from {
        Place::Directory(dir) => verify(dir).await,
        Place::Bucket { objects, prefix, url } => {
            let staging = tempfile::Builder::new().prefix("innkeep-backup-").tempdir()?;
            download(objects, prefix, url, staging.path()).await?;
            verify(staging.path()).await
        }
    }
}

/// Restore a backup, wherever it is, into `data`.
pub async fn restore_at(from: &Place, data: &Path) -> anyhow::Result<Manifest> {
    match from {
        Place::Directory(dir) => restore(dir, data).await,
        Place::Bucket { objects, prefix, url } => {
            ensure!(
                !data.join(DATABASE).exists(),
                "{} already holds a database; restore into a fresh directory",
                data.display()
            );
            std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
            let staging = tempfile::Builder::new().prefix(".restore-").tempdir_in(data)?;
            download(objects, prefix, url, staging.path()).await?;
            restore(staging.path(), data).await
        }
    }
}
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
    std::fs::write(to.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Check a backup: every file of the manifest present with its size and checksum, no file
/// besides them, and the database snapshot whole.
pub async fn verify(from: &Path) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join(MANIFEST)).with_context(|| format!("reading {}/{MANIFEST}", from.display()))?,
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
        ensure!(p == MANIFEST || manifest.files.iter().any(|f| f.path == p), "{p} is not in the manifest");
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
