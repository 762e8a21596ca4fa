//! Reading a `multipart/form-data` body that is already in memory (the photo upload form,
//! through `multer`): the parts' names, file names and bytes.

/// One part of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    multer::parse_boundary(content_type).ok()
}

/// The parts of a body, or `None` if it is not well-formed multipart.
pub async fn parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let mut form = multer::Multipart::with_reader(body, boundary);
    let mut out = Vec::new();
    while let Some(field) = form.next_field().await.ok()? {
        let name = field.name()?.to_string();
        let filename = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.ok()?.to_vec();
        out.push(Part { name, filename, bytes });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_form_with_a_file_is_read_back() {
        let b = "XyZ";
        let mut body = Vec::new();
        body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc123\r\n");
        body.extend_from_slice(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n",
        );
        body.extend_from_slice(b"\x89PNG\r\n--Xy not the end\r\n");
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        assert_eq!(boundary("multipart/form-data; boundary=XyZ").as_deref(), Some(b));
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        let p = parts(&body, b).await.unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].name.as_str(), p[0].bytes.as_slice()), ("csrf", &b"abc123"[..]));
        assert_eq!(p[1].filename.as_deref(), Some("a.png"));
        assert_eq!(p[1].bytes, b"\x89PNG\r\n--Xy not the end\r\n".to_vec());
        assert_eq!(parts(b"garbage", b).await, None);
        assert_eq!(parts(b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", b).await, None);
    }
}
