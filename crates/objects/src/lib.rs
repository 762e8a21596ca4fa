//! Object storage behind `innkeep_app::objects::ObjectStorage`, through the `object_store`
//! crate: a local directory (the default, `data_dir/objects`) or any S3 API (AWS S3,
//! Ceph RGW, OpenStack Swift with s3api, MinIO) with path-style addressing.

use async_trait::async_trait;
use innkeep_app::objects::{ObjectError, ObjectStorage, valid_key};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::sync::Arc;

/// Where the objects go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory on local disk (created if missing).
    Directory(std::path::PathBuf),
    /// An S3 bucket.
    S3(S3Options),
}

/// An S3 bucket and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Options {
    pub bucket: String,
    /// `http(s)://host:port` of an S3-compatible server; empty for AWS itself.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .finish()
    }
}

/// The bucket of an `s3://bucket` URL (an optional trailing `/` is allowed; no prefix).
pub fn bucket_of(url: &str) -> Result<String, ObjectError> {
    let bucket = url
        .strip_prefix("s3://")
        .map(|b| b.trim_end_matches('/'))
        .filter(|b| !b.is_empty() && !b.contains('/'))
        .ok_or_else(|| ObjectError::Backend(format!("storage URL {url:?} is not s3://BUCKET")))?;
    Ok(bucket.to_string())
}

/// Objects in an `object_store` backend.
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

fn backend(e: object_store::Error) -> ObjectError {
    // A full disk under a local directory shows as an I/O error somewhere in the chain.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull) {
            return ObjectError::Full(e.to_string());
        }
        source = s.source();
    }
    ObjectError::Backend(e.to_string())
}

/// Open object storage at a location.
pub fn open(location: &Location) -> Result<Objects, ObjectError> {
    match location {
        Location::Directory(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| ObjectError::Backend(format!("creating {}: {e}", dir.display())))?;
            let fs = LocalFileSystem::new_with_prefix(dir).map_err(backend)?;
            Ok(Objects { inner: Arc::new(fs), description: format!("local directory {}", dir.display()) })
        }
        Location::S3(o) => {
            let mut b = AmazonS3Builder::new()
                .with_bucket_name(&o.bucket)
                .with_region(if o.region.is_empty() { "us-east-1" } else { &o.region })
                .with_virtual_hosted_style_request(false);
            // Without keys the client takes the machine's role (EC2 instance profile, ECS
            // task role, web identity), as the AWS SDKs do; empty keys would sign as nobody.
            if !o.access_key_id.is_empty() {
                b = b.with_access_key_id(&o.access_key_id).with_secret_access_key(&o.secret_access_key);
            }
            if !o.endpoint.is_empty() {
                b = b.with_endpoint(&o.endpoint).with_allow_http(o.endpoint.starts_with("http://"));
            }
            let s3 = b.build().map_err(backend)?;
            let at = if o.endpoint.is_empty() { "AWS".to_string() } else { o.endpoint.clone() };
            Ok(Objects { inner: Arc::new(s3), description: format!("s3://{} at {at}", o.bucket) })
        }
    }
}

impl Objects {
    /// The store itself, for parts that need more of it than keys and bytes (the analytics
    /// lake lists, reads ranges and deletes).
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.inner.clone()
    }

    /// Every key under `prefix` (all keys when it is empty), sorted.
    pub async fn keys_under(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        use futures::TryStreamExt;
        let at = if prefix.is_empty() { None } else { Some(path(prefix)?) };
        let metas: Vec<_> = self.inner.list(at.as_ref()).try_collect().await.map_err(backend)?;
        let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        Ok(keys)
    }

    /// Write the local file `file` to `key`, streamed (in parts when it is large), so a
    /// database of any size goes up in bounded memory. The object exists only once whole.
    pub async fn upload_file(&self, key: &str, file: &std::path::Path) -> Result<(), ObjectError> {
        use tokio::io::AsyncWriteExt;
        let at = path(key)?;
        let io = |e: std::io::Error| ObjectError::Backend(format!("{}: {e}", file.display()));
        let mut from = tokio::fs::File::open(file).await.map_err(io)?;
        let mut to = object_store::buffered::BufWriter::new(self.inner.clone(), at);
        if let Err(e) = tokio::io::copy(&mut from, &mut to).await {
            let _ = to.abort().await;
            return Err(ObjectError::Backend(format!("uploading {}: {e}", file.display())));
        }
        to.shutdown().await.map_err(|e| ObjectError::Backend(format!("uploading {}: {e}", file.display())))
    }

    /// Read `key` into the local file `file` (created), streamed; `false` when there is no
    /// such object.
    pub async fn download_file(&self, key: &str, file: &std::path::Path) -> Result<bool, ObjectError> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let at = path(key)?;
        let got = match self.inner.get(&at).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(backend(e)),
        };
        let io = |e: std::io::Error| ObjectError::Backend(format!("{}: {e}", file.display()));
        let mut to = tokio::fs::File::create(file).await.map_err(io)?;
        let mut chunks = got.into_stream();
        while let Some(chunk) = chunks.next().await {
            to.write_all(&chunk.map_err(backend)?).await.map_err(io)?;
        }
        to.sync_all().await.map_err(io)?;
        Ok(true)
    }
}

fn path(key: &str) -> Result<Path, ObjectError> {
    if !valid_key(key) {
        return Err(ObjectError::InvalidKey(key.to_string()));
    }
    Path::parse(key).map_err(|_| ObjectError::InvalidKey(key.to_string()))
}

#[async_trait]
impl ObjectStorage for Objects {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        let p = path(key)?;
        self.inner.put(&p, PutPayload::from(bytes)).await.map_err(backend)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        let p = path(key)?;
        match self.inner.get(&p).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(backend)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let p = path(key)?;
        match self.inner.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
