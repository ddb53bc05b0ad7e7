//! A small HTTP/1.1 client over one keep-alive connection: what a browser tab does, without pulling an
//! HTTP client crate into the product's dependencies. It keeps cookies and understands the two body
//! framings actix-web sends (Content-Length and chunked).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    cookies: BTreeMap<String, String>,
    /// Ask for gzip like a browser does; the body is then left compressed.
    pub gzip: bool,
    /// The session's CSRF token, once a signed-in page was read.
    pub csrf: String,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Client {
            addr,
            stream: None,
            cookies: BTreeMap::new(),
            gzip: false,
            csrf: String::new(),
        }
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<Response> {
        self.send("GET", path, None).await
    }

    /// A form post, with the page's CSRF token added.
    pub async fn post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<Response> {
        let mut body = format!("_csrf={}", encode(&self.csrf));
        for (k, v) in fields {
            body.push_str(&format!("&{}={}", encode(k), encode(v)));
        }
        self.send("POST", path, Some(body.into_bytes())).await
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Response> {
        // A kept-alive connection the server closed meanwhile fails on first use: retry once.
        let reused = self.stream.is_some();
        match self.try_send(method, path, body.as_deref()).await {
            Ok(r) => Ok(r),
            Err(_) if reused => {
                self.stream = None;
                self.try_send(method, path, body.as_deref()).await
            }
            Err(e) => Err(e),
        }
    }

    async fn try_send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> anyhow::Result<Response> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: agentdesk-bench\r\n",
            self.addr
        );
        if self.gzip {
            head.push_str("Accept-Encoding: gzip\r\n");
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        if let Some(b) = body {
            head.push_str(&format!(
                "Origin: http://{}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                self.addr,
                b.len()
            ));
        }
        head.push_str("\r\n");
        let stream = self.stream.as_mut().expect("connected above");
        let mut out = head.into_bytes();
        if let Some(b) = body {
            out.extend_from_slice(b);
        }
        stream.get_mut().write_all(&out).await?;
        let r = read_response(stream).await;
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                self.stream = None;
                return Err(e);
            }
        };
        let close = r
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if close {
            self.stream = None;
        }
        for (k, v) in &r.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                self.take_cookie(v);
            }
        }
        Ok(r)
    }

    fn take_cookie(&mut self, set_cookie: &str) {
        let first = set_cookie.split(';').next().unwrap_or("");
        let Some((name, value)) = first.split_once('=') else {
            return;
        };
        let removed = set_cookie
            .split(';')
            .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        if removed || value.is_empty() {
            self.cookies.remove(name.trim());
        } else {
            self.cookies.insert(name.trim().into(), value.trim().into());
        }
    }

    /// Signs in through the real form: the page's token, then the post; the session cookie stays.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> anyhow::Result<()> {
        let page = self.get("/login").await?;
        self.csrf = hidden_csrf(&page.text()).context("the sign-in page has a CSRF token")?;
        let r = self
            .post_form(
                "/login",
                &[("next", ""), ("email", email), ("password", password)],
            )
            .await?;
        if r.status != 303 {
            bail!(
                "signing in as {email} answered {} instead of a redirect",
                r.status
            );
        }
        let home = r.header("location").unwrap_or("/").to_string();
        let page = self.get(&home).await?;
        if page.status != 200 {
            bail!("{home} after signing in answered {}", page.status);
        }
        self.csrf = hidden_csrf(&page.text()).context("a signed-in page has a CSRF token")?;
        Ok(())
    }
}

async fn read_response(stream: &mut BufReader<TcpStream>) -> anyhow::Result<Response> {
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        bail!("the server closed the connection");
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .context("a status line")?
        .parse()?;
    let mut headers = vec![];
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = vec![];
    if let Some(len) = find("content-length") {
        body.resize(len.parse()?, 0);
        stream.read_exact(&mut body).await?;
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The value of the first `name="_csrf"` hidden input of a page.
pub fn hidden_csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_string())
}

/// Percent-encoding for form fields.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An href as written in HTML, back to the address it names.
pub fn unescape_href(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#x3D;", "=")
        .replace("&#61;", "=")
        .replace("&#x2F;", "/")
        .replace("&quot;", "\"")
}
