//! One headless Chromium for all scenarios, driven through chromedriver (WebDriver) with
//! fantoccini, plus the checks every page gets (labels, code fields, 320 px width) and the
//! optional screenshots (`TWOSTEP_SCREENSHOTS=dir`).

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Desktop and phone widths the screenshots and layout checks use.
pub const DESKTOP: u32 = 1024;
/// The narrowest phone width the pages must work at.
pub const PHONE: u32 = 320;

/// The browser and its driver process.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: Option<PathBuf>,
}

fn find_binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("addr").port()
}

impl Browser {
    /// Starts chromedriver and one headless Chromium session; an error says what is missing.
    pub async fn start() -> Result<Self, String> {
        let driver_bin = find_binary(
            "TWOSTEP_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        )
        .ok_or(
            "chromedriver not found (apt-get install chromium-driver, or set TWOSTEP_CHROMEDRIVER)",
        )?;
        let chromium =
            find_binary("TWOSTEP_CHROMIUM", &["/usr/bin/chromium", "/usr/bin/chromium-browser"])
                .ok_or("chromium not found (apt-get install chromium, or set TWOSTEP_CHROMIUM)")?;
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", driver_bin.display()))?;
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={DESKTOP},800"),
                ],
            },
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(client) => {
                    let shots = std::env::var_os("TWOSTEP_SCREENSHOTS").map(|d| {
                        let d = PathBuf::from(d);
                        if d.is_absolute() {
                            d
                        } else {
                            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(d)
                        }
                    });
                    if let Some(d) = &shots {
                        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
                    }
                    return Ok(Self { client, driver, _profile: profile, shots });
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut driver = driver;
        let _ = driver.kill();
        let _ = driver.wait();
        Err(format!("chromedriver did not start a session: {last}"))
    }

    /// Ends the session (Chromium exits) and the driver.
    pub async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    /// Opens a URL.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Types into the focused element (keys such as Tab and Enter included); with
    /// `navigates`, waits for the page that follows.
    pub async fn keys(&self, text: &str, navigates: bool) {
        let e = self.client.active_element().await.expect("focused element");
        if navigates {
            self.mark_page().await;
        }
        e.send_keys(text).await.unwrap_or_else(|err| panic!("type {text:?}: {err}"));
        if navigates {
            self.wait_new_page().await;
        }
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.expect("current url");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// The text of `main` (for failure reports), or the page source.
    pub async fn main_text(&self) -> String {
        match self.client.find(Locator::Css("main")).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => self.client.source().await.unwrap_or_default(),
        }
    }

    /// The element matching a CSS selector.
    pub async fn el(&self, css: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// Whether an element matches.
    pub async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.expect("find_all").is_empty()
    }

    /// Types into a field (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.el(css).await;
        e.clear().await.unwrap_or_else(|err| panic!("clear {css}: {err}"));
        e.send_keys(text).await.unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    /// Marks the current document, so that [`Browser::wait_new_page`] sees it replaced.
    pub async fn mark_page(&self) {
        self.js("window.__twostepOld = true;").await;
    }

    /// Waits until the marked document was replaced by a fully loaded one.
    pub async fn wait_new_page(&self) {
        for _ in 0..600 {
            let done = self
                .client
                .execute(
                    "return !window.__twostepOld && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .map(|v| v == json!(true))
                .unwrap_or(false);
            if done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no new page after 15 s (at {})", self.path().await);
    }

    /// Clicks a link or button and waits for the page it leads to.
    pub async fn click(&self, css: &str) {
        let e = self.el(css).await;
        self.mark_page().await;
        e.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        self.wait_new_page().await;
    }

    /// Ticks or unticks a checkbox (no navigation).
    pub async fn toggle(&self, css: &str) {
        self.el(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks the button or link whose text contains `text`.
    pub async fn click_text(&self, text: &str) {
        let xpath =
            format!("//*[(self::button or self::a) and contains(normalize-space(.), '{text}')]");
        let e = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button or link \"{text}\": {e}"));
        self.mark_page().await;
        e.click().await.unwrap_or_else(|e| panic!("click \"{text}\": {e}"));
        self.wait_new_page().await;
    }

    /// The visible text of an element.
    pub async fn text(&self, css: &str) -> String {
        self.el(css).await.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// An attribute of an element.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.el(css).await.attr(name).await.unwrap_or_else(|e| panic!("attr {name} of {css}: {e}"))
    }

    /// Runs a script in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script: {e}"))
    }

    /// Forgets every cookie of 127.0.0.1 (all ports share them).
    pub async fn forget_cookies(&self, base: &str) {
        self.goto(&format!("{base}/assets/app.css")).await;
        self.client.delete_all_cookies().await.expect("delete cookies");
    }

    /// The checks every page gets: a label for every field, code fields that phones fill
    /// in, no CSP-blocked inline code, and nothing wider than a 320 px screen.
    pub async fn check_page(&self) {
        let problems = self
            .js(r#"
            const out = [];
            for (const f of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
              if (!f.labels || f.labels.length === 0) out.push('no label: ' + (f.name || f.id));
            }
            for (const f of document.querySelectorAll('input[name=code]')) {
              if (f.closest('form').action.endsWith('/signin/recovery')) continue;
              if (f.autocomplete !== 'one-time-code') out.push('code field without one-time-code');
              if (f.inputMode !== 'numeric') out.push('code field without numeric input mode');
            }
            for (const form of document.querySelectorAll('form[method=post]')) {
              if (!form.querySelector('input[name=csrf]')) out.push('form without csrf: ' + form.action);
            }
            if (document.querySelector('script:not([src]), [style]')) out.push('inline script or style');
            return out;
            "#)
            .await;
        assert_eq!(problems, json!([]), "page checks on {}", self.path().await);
        let w = self.client.get_window_size().await.expect("window size");
        self.client.set_window_size(PHONE, 800).await.expect("resize");
        let overflow = self
            .js("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            .await;
        self.client.set_window_size(w.0 as u32, w.1 as u32).await.expect("resize back");
        assert_eq!(overflow, json!(0), "{} is wider than {PHONE} px", self.path().await);
    }

    /// Checks the page and, when `TWOSTEP_SCREENSHOTS` is set, saves `name.png` (desktop)
    /// and, with `phone`, `name-320.png`.
    pub async fn page(&self, name: &str, phone: bool) {
        self.check_page().await;
        let Some(dir) = &self.shots else { return };
        let widths: &[(u32, &str)] =
            if phone { &[(DESKTOP, ""), (PHONE, "-320")] } else { &[(DESKTOP, "")] };
        for (w, suffix) in widths {
            self.client.set_window_size(*w, 600).await.expect("resize");
            let h = self
                .js("return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;")
                .await
                .as_u64()
                .unwrap_or(600);
            self.client.set_window_size(*w, h.clamp(400, 2400) as u32).await.expect("resize");
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(dir.join(format!("{name}{suffix}.png")), recompress(&png))
                .expect("write screenshot");
        }
        self.client.set_window_size(DESKTOP, 800).await.expect("resize");
    }

    /// The element's pixels as rendered, as PNG.
    pub async fn element_png(&self, css: &str) -> Vec<u8> {
        self.el(css).await.screenshot().await.unwrap_or_else(|e| panic!("screenshot of {css}: {e}"))
    }
}

/// Decodes a PNG to (width, height, RGB bytes).
pub fn decode_rgb(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("png size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| if channels >= 3 { [p[0], p[1], p[2]] } else { [p[0], p[0], p[0]] })
        .collect();
    (info.width, info.height, rgb)
}

/// Chromium's PNGs are quickly compressed; these are for the repository, so squeeze them.
fn recompress(png_bytes: &[u8]) -> Vec<u8> {
    let (w, h, rgb) = decode_rgb(png_bytes);
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().expect("png header");
    writer.write_image_data(&rgb).expect("png data");
    drop(writer);
    out
}

/// Reads the QR code in a PNG, as a phone camera would.
pub fn read_qr(png_bytes: &[u8]) -> String {
    let (w, h, rgb) = decode_rgb(png_bytes);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
        let i = (y * w as usize + x) * 3;
        ((u16::from(rgb[i]) + u16::from(rgb[i + 1]) + u16::from(rgb[i + 2])) / 3) as u8
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("QR code decodes").1
}
