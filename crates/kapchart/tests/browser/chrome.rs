//! A headless Chromium driven through its own ChromeDriver: navigation,
//! filling and submitting forms as a person would, reading the page.
//! (axe-core, screenshots and PDFs: `evidence.rs`.)

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::{Practice, tools};

/// How long ChromeDriver may take to print its port.
const DRIVER_START: Duration = Duration::from_secs(60);
/// Polls of ChromeDriver's `/status` (every [`POLL`]) before giving up.
const STATUS_POLLS: u32 = 200;
/// Polls for the next page after a click (every [`POLL`]) before giving up.
const NAVIGATION_POLLS: u32 = 400;
/// The interval of the bounded poll loops above.
const POLL: Duration = Duration::from_millis(50);
/// The window's width: wide enough for the pages' tables.
pub(super) const WIDTH: u32 = 1280;
/// The window's height.
pub(super) const HEIGHT: u32 = 900;

/// A headless Chromium with its own ChromeDriver, pointed at a practice.
/// ChromeDriver (and the Chromium it started) is killed on drop; call
/// [`Browser::close`] at the end of a test to end the session cleanly.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    base: String,
    driver: Child,
    driver_log: Arc<Mutex<String>>,
    /// The last field [`Browser::fill`] filled: [`Browser::submit`]
    /// submits its form.
    last_field: Mutex<Option<String>>,
}

impl Browser {
    /// Starts ChromeDriver on a free port and a headless Chromium session
    /// through it, for the pages of `practice`.
    pub async fn open(practice: &Practice) -> Browser {
        let tools = tools();
        let mut driver = Command::new(&tools.chromedriver);
        driver
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group: dropping the browser kills ChromeDriver
        // and every Chromium process it started.
        std::os::unix::process::CommandExt::process_group(&mut driver, 0);
        let mut driver = driver
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", tools.chromedriver.display()));
        let driver_log = Arc::new(Mutex::new(String::new()));
        let (port_tx, port_rx) = mpsc::channel();
        read_driver_output(
            driver.stdout.take().expect("stdout"),
            &driver_log,
            Some(port_tx),
        );
        read_driver_output(driver.stderr.take().expect("stderr"), &driver_log, None);
        // "ChromeDriver was started successfully on port N."
        let port: u16 = match port_rx.recv_timeout(DRIVER_START) {
            Ok(port) => port,
            Err(e) => {
                kill_group(&mut driver);
                panic!(
                    "ChromeDriver did not say its port ({e}):\n{}",
                    driver_log.lock().expect("log")
                );
            }
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        wait_until_ready(&webdriver, &driver_log).await;

        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": tools.chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    "--lang=en-US",
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
        {
            Ok(client) => client,
            Err(e) => {
                kill_group(&mut driver);
                panic!(
                    "no Chromium session through ChromeDriver ({e}); is {} the Chromium that \
                     ChromeDriver {} drives?\n{}",
                    tools.chromium.display(),
                    tools.chromedriver.display(),
                    driver_log.lock().expect("log")
                );
            }
        };
        Browser {
            client,
            base: practice.base().to_owned(),
            driver,
            driver_log,
            last_field: Mutex::new(None),
        }
    }

    /// Ends the WebDriver session (Chromium quits), then ChromeDriver.
    pub async fn close(self) {
        self.client
            .clone()
            .close()
            .await
            .expect("the browser session ends");
    }

    /// The WebDriver client, for what the helpers here do not do.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `path` of the practice (e.g. `/sign-in`) and waits for it to
    /// load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
        self.forget_field();
    }

    /// The current URL's path and query: `/sign-in?ended=idle`.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The page's `<title>`.
    pub async fn title(&self) -> String {
        self.client.title().await.expect("the page's title")
    }

    /// The text of the page's `<h1>`.
    pub async fn h1(&self) -> String {
        self.text("h1").await
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        element
            .text()
            .await
            .unwrap_or_else(|e| panic!("the text of {css}: {e}"))
    }

    /// The visible text of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            texts.push(element.text().await.expect("an element's text"));
        }
        texts
    }

    /// The visible text of the whole page.
    pub async fn body_text(&self) -> String {
        self.text("body").await
    }

    /// Whether something on the page matches `css`.
    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// The first element matching `css`; fails naming the page if none.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("{css}: not found on {} ({e})", self.describe().await),
        }
    }

    /// Every element matching `css`.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding {css}: {e}"))
    }

    /// Runs `script` in the page (a function body: `return ...;`).
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        match self.client.execute(script, args).await {
            Ok(value) => value,
            Err(e) => panic!("running a script on {}: {e}", self.describe().await),
        }
    }

    /// Fills the field named `name` in the page's `<main>` as a person
    /// would: types into text fields and text areas, picks the option of a
    /// `<select>` whose value (or, failing that, label) is `value`, ticks
    /// the radio button or checkbox whose value is `value`, and sets date
    /// and time fields (whose typing is locale-bound) to `value` in their
    /// wire format (`2026-03-01`, `14:30`).
    pub async fn fill(&self, name: &str, value: &str) {
        let css = format!("main [name=\"{}\"]", css_string(name));
        let fields = self.find_all(&css).await;
        let Some(first) = fields.first() else {
            panic!("no field named {name:?} on {}", self.describe().await);
        };
        let tag = first.tag_name().await.expect("tag").to_lowercase();
        let kind = first
            .attr("type")
            .await
            .expect("type")
            .unwrap_or_default()
            .to_lowercase();
        match (tag.as_str(), kind.as_str()) {
            ("select", _) => {
                if first.select_by_value(value).await.is_err() {
                    first.select_by_label(value).await.unwrap_or_else(|e| {
                        panic!("{name:?} has no option {value:?}: {e}");
                    });
                }
            }
            ("input", "radio" | "checkbox") => {
                let mut chosen = false;
                for field in &fields {
                    if field.attr("value").await.expect("value").as_deref() == Some(value) {
                        if !field.is_selected().await.expect("selected") || kind == "radio" {
                            field.click().await.expect("click");
                        }
                        chosen = true;
                        break;
                    }
                }
                assert!(chosen, "{name:?} has no {kind} with the value {value:?}");
            }
            ("input", "hidden") => {
                panic!("{name:?} is a hidden field: a person cannot fill it");
            }
            ("input", "date" | "time" | "datetime-local" | "month" | "week") => {
                let element = serde_json::to_value(first).expect("element reference");
                self.script(
                    "arguments[0].value = arguments[1];
                     arguments[0].dispatchEvent(new Event('input', { bubbles: true }));
                     arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
                    vec![element, json!(value)],
                )
                .await;
            }
            _ => {
                first.clear().await.expect("clear the field");
                first
                    .send_keys(value)
                    .await
                    .unwrap_or_else(|e| panic!("typing into {name:?}: {e}"));
            }
        }
        *self.last_field.lock().expect("last field") = Some(name.to_owned());
    }

    /// The current value of the field named `name` in `<main>` (what was
    /// typed is kept after a refusal), or of the checked radio button.
    pub async fn field_value(&self, name: &str) -> String {
        let css = format!("main [name=\"{}\"]", css_string(name));
        let value = self
            .script(
                "const fields = [...document.querySelectorAll(arguments[0])];
                 if (fields.length === 0) { return null; }
                 const checked = fields.find((f) => f.checked);
                 return (checked || fields[0]).value;",
                vec![json!(css)],
            )
            .await;
        match value.as_str() {
            Some(value) => value.to_owned(),
            None => panic!("no field named {name:?} on {}", self.describe().await),
        }
    }

    /// The error shown for the field named `name`: when it is marked
    /// `aria-invalid="true"`, the text of the elements its
    /// `aria-describedby` names; `None` when it is not marked invalid.
    pub async fn field_error(&self, name: &str) -> Option<String> {
        let css = format!("main [name=\"{}\"]", css_string(name));
        let error = self
            .script(
                "const field = document.querySelector(arguments[0]);
                 if (!field) { return { missing: true }; }
                 if (field.getAttribute('aria-invalid') !== 'true') { return { invalid: false }; }
                 const ids = (field.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
                 const text = ids.map((id) => document.getElementById(id))
                   .filter(Boolean).map((e) => e.textContent.trim()).join(' ');
                 return { invalid: true, text };",
                vec![json!(css)],
            )
            .await;
        if error["missing"] == json!(true) {
            panic!("no field named {name:?} on {}", self.describe().await);
        }
        (error["invalid"] == json!(true)).then(|| error["text"].as_str().unwrap_or("").to_owned())
    }

    /// Submits the form of the last field filled (or the page's only form
    /// in `<main>`) with its submit button, and waits for the next page.
    /// A form with several submit buttons: [`Browser::click_button`].
    pub async fn submit(&self) {
        let field = self.last_field.lock().expect("last field").take();
        let buttons = match &field {
            Some(name) => {
                let xpath = format!(
                    "//main//*[@name=\"{name}\"]/ancestor::form[1]//*[(self::button and \
                     (not(@type) or @type='submit')) or (self::input and @type='submit')]"
                );
                self.client
                    .find_all(Locator::XPath(&xpath))
                    .await
                    .expect("the form's buttons")
            }
            None => {
                self.find_all(
                    "main form button[type=submit], main form button:not([type]), \
                     main form input[type=submit]",
                )
                .await
            }
        };
        let button = match buttons.as_slice() {
            [one] => one,
            [] => panic!(
                "no submit button for {} on {}",
                field.map_or("a form".to_owned(), |f| format!("the field {f:?}")),
                self.describe().await
            ),
            several => {
                let mut labels = Vec::new();
                for b in several {
                    labels.push(b.text().await.unwrap_or_default());
                }
                panic!(
                    "several submit buttons ({labels:?}) on {}: use click_button",
                    self.describe().await
                );
            }
        };
        self.click_and_wait(button, "the submit button").await;
    }

    /// Clicks the button whose text is `label` (in `<main>` first, else
    /// anywhere, e.g. "Sign out" in the header), and waits for the next
    /// page.
    pub async fn click_button(&self, label: &str) {
        let in_main = format!("//main//button[normalize-space(.)=\"{label}\"]");
        let xpath = if self.client.find(Locator::XPath(&in_main)).await.is_ok() {
            in_main
        } else {
            format!("//button[normalize-space(.)=\"{label}\"]")
        };
        let button = match self.client.find(Locator::XPath(&xpath)).await {
            Ok(button) => button,
            Err(e) => panic!("no button {label:?} on {} ({e})", self.describe().await),
        };
        self.forget_field();
        self.click_and_wait(&button, label).await;
    }

    /// Follows the link whose text is `label`, and waits for the next page.
    pub async fn click_link(&self, label: &str) {
        let link = match self.client.find(Locator::LinkText(label)).await {
            Ok(link) => link,
            Err(e) => panic!("no link {label:?} on {} ({e})", self.describe().await),
        };
        self.forget_field();
        self.click_and_wait(&link, label).await;
    }

    /// Presses Tab, as a keyboard user moves the focus.
    pub async fn press_tab(&self) {
        use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let tab: char = Key::Tab.into();
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: tab })
            .then(KeyAction::Up { value: tab });
        self.client
            .perform_actions(keys)
            .await
            .expect("pressing Tab");
    }

    /// The focused element: its tag, text and `href` (if any).
    pub async fn focused(&self) -> (String, String, Option<String>) {
        let element = self.client.active_element().await.expect("the focus");
        (
            element.tag_name().await.expect("tag").to_lowercase(),
            element.text().await.expect("text"),
            element.attr("href").await.expect("href"),
        )
    }

    /// Gives the browser the session `secret` (the cookie the sign-in
    /// pages set), as if it had signed in.
    pub async fn set_session_cookie(&self, secret: &str) {
        // A cookie is set for the page's origin: be on it first.
        self.goto(kapchart_web::STYLESHEET_PATH).await;
        let host = self
            .client
            .current_url()
            .await
            .expect("the current URL")
            .host_str()
            .unwrap_or("127.0.0.1")
            .to_owned();
        let cookie = fantoccini::cookies::Cookie::parse(format!(
            "{}={secret}; Domain={host}; Path=/; HttpOnly; SameSite=Strict",
            kapchart_web::session::COOKIE
        ))
        .expect("a cookie");
        self.client
            .add_cookie(cookie)
            .await
            .expect("setting the session cookie");
    }

    /// The page, for failure messages: its path, `<h1>` and any alert.
    pub async fn describe(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map_or_else(|e| format!("? ({e})"), |u| u.to_string());
        let grab = |css: &'static str| async move {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            }
        };
        let h1 = grab("h1").await;
        let alert = grab("[role=alert]").await;
        format!("{url} (h1 {h1:?}, alert {alert:?})")
    }

    /// What ChromeDriver printed so far.
    pub fn driver_log(&self) -> String {
        self.driver_log.lock().expect("log").clone()
    }

    fn forget_field(&self) {
        *self.last_field.lock().expect("last field") = None;
    }

    /// Clicks `element` and waits until the page it was on has been
    /// replaced by a loaded next page: the old page's window carries a
    /// marker that a new document does not have. (Probing an element of
    /// the old page instead races the navigation: ChromeDriver may answer
    /// neither "stale" nor "still there" while the page is being replaced.)
    async fn click_and_wait(&self, element: &Element, what: &str) {
        static PAGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let marker = format!(
            "page-{}",
            PAGES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        self.client
            .execute("window.__kapchartPage = arguments[0];", vec![json!(marker)])
            .await
            .unwrap_or_else(|e| panic!("marking the page before {what:?}: {e}"));
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {what:?}: {e}"));
        for _ in 0..NAVIGATION_POLLS {
            match self
                .client
                .execute(
                    "return window.__kapchartPage === arguments[0] ? 'old' : document.readyState;",
                    vec![json!(marker)],
                )
                .await
            {
                Ok(state) if state == json!("complete") => return,
                Ok(_) => {}
                // The document is being replaced: ask again.
                Err(CmdError::Standard(_)) => {}
                Err(e) => panic!("waiting for the page after {what:?}: {e}"),
            }
            tokio::time::sleep(POLL).await;
        }
        panic!(
            "clicking {what:?} did not lead to a new page (a required field left empty stops \
             the browser from sending a form): {}",
            self.describe().await
        );
    }

    async fn wait_until_loaded(&self) {
        for _ in 0..NAVIGATION_POLLS {
            match self
                .client
                .execute("return document.readyState;", vec![])
                .await
            {
                Ok(state) if state == json!("complete") => return,
                Ok(_) => {}
                Err(CmdError::Standard(_)) => {}
                Err(e) => panic!("waiting for the page to load: {e}"),
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("the page did not finish loading: {}", self.describe().await);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
        if std::thread::panicking() {
            eprintln!("--- chromedriver:\n{}", self.driver_log());
        }
    }
}

/// `text` inside a double-quoted CSS string.
fn css_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Reads ChromeDriver's output into `log` on a thread of its own; sends
/// the port of its "started successfully on port N." line to `port`.
fn read_driver_output(
    pipe: impl std::io::Read + Send + 'static,
    log: &Arc<Mutex<String>>,
    port: Option<mpsc::Sender<u16>>,
) {
    let log = Arc::clone(log);
    std::thread::spawn(move || {
        let mut port = port;
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let (Some(sender), Ok(n)) = (port.take(), digits.parse()) {
                    let _ = sender.send(n);
                }
            }
            let mut log = log.lock().expect("log");
            log.push_str(&line);
            log.push('\n');
        }
    });
}

/// Polls ChromeDriver's `/status` until it says it is ready.
async fn wait_until_ready(webdriver: &str, log: &Arc<Mutex<String>>) {
    let http = reqwest::Client::new();
    let status = format!("{webdriver}/status");
    for _ in 0..STATUS_POLLS {
        if let Ok(response) = http.get(&status).send().await
            && let Ok(body) = response.json::<Value>().await
            && body["value"]["ready"] == json!(true)
        {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!(
        "ChromeDriver's {status} did not say ready:\n{}",
        log.lock().expect("log")
    );
}

/// Kills the process group `child` leads (ChromeDriver and the Chromium
/// it started) and reaps `child`.
fn kill_group(child: &mut Child) {
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}
