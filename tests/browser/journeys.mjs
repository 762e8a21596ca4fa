// Browser journeys through Innkeep's web pages, against a running server with demo data:
//   node tests/browser/journeys.mjs http://127.0.0.1:8080
// Uses Debian's chromium through playwright-core; saves screenshots at desktop and phone
// widths to docs/screenshots/; runs axe-core's WCAG 2.2 AA rules on every page it visits, at
// both widths. Exits non-zero on the first failed step.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createHmac } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const BASE = (process.argv[2] || process.env.INNKEEP_BASE_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const PASSWORD = "innkeep-demo-password";
// RFC 6238 (HMAC-SHA-1, 6 digits, 30 s), as an authenticator app computes it.
function totp(base32, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from((bits.match(/.{8}/g) || []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}

const SHOTS = resolve(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
mkdirSync(SHOTS, { recursive: true });

const suffix = Date.now().toString(36);
// A real place the gazetteer knows and the demo data does not use, so the new property is the only stay there.
const city = "Évora";
const propertyName = `Journey Inn ${suffix}`;
const isoDay = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
const checkIn = isoDay(40);
const checkOut = isoDay(43);
const lastNight = isoDay(42);

// Pages where a step submits a form that must be refused (the browser logs the 4xx).
const expectedRefusals = new Set();

function expect(cond, message) {
  if (!cond) throw new Error(`expectation failed: ${message}`);
}

// axe-core (tests/browser/package.json pins it) with the rules of WCAG 2.0, 2.1 and 2.2 at
// levels A and AA; any violation fails the journey.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

// Every page of Innkeep the journeys load, by route (ids as ":id", the query's names sorted), and
// the routes axe has checked: at the end, a page loaded but never checked fails the journeys.
const loaded = new Map();
const checked = new Set();
function route(url) {
  const u = new URL(url);
  const path = u.pathname.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, ":id");
  const names = [...new Set(u.searchParams.keys())].sort();
  return names.length ? `${path}?${names.join("&")}` : path;
}

// axe's violations on the page as it is now, one line each: the rule, its impact, the page and
// the offending nodes' selectors.
async function axeViolations(page, name, width) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern. Not
  // page.addScriptTag({ content }): that is an inline script, which the CSP (script-src 'self')
  // refuses, and creating the contexts with bypassCSP would switch the CSP off for the whole
  // journey, so the check below that no page breaks it could no longer fail.
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.map((t) => (Array.isArray(t) ? t.join(" >>> ") : t)).join(" ")),
    }));
  }, AXE_TAGS);
  return violations.map((v) => `${v.id} (${v.impact}) on ${name} at ${width} width, ${page.url()}: ${v.help}: ${v.nodes.join(" | ")}`);
}

// Checks the page with axe at desktop and phone widths; with `shots`, saves a screenshot at each
// and checks that the page does not scroll sideways on a phone. Leaves the page at desktop width.
async function check(page, name, shots) {
  const found = [];
  await page.setViewportSize(DESKTOP);
  found.push(...(await axeViolations(page, name, "desktop")));
  if (shots) await page.screenshot({ path: `${SHOTS}/${name}-desktop.png`, fullPage: true });
  await page.setViewportSize(PHONE);
  found.push(...(await axeViolations(page, name, "phone")));
  if (shots) {
    await page.screenshot({ path: `${SHOTS}/${name}-phone.png`, fullPage: true });
    // No horizontal scrolling of the page itself at phone width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 1, `${name} fits a phone screen (overflows by ${overflow}px)`);
  }
  await page.setViewportSize(DESKTOP);
  checked.add(route(page.url()));
  noViolations(found);
}

// Fails the step with every violation found, one a line.
function noViolations(found) {
  expect(found.length === 0, `accessibility violations (axe, WCAG 2.2 AA):\n  ${found.join("\n  ")}`);
}

// A page the journeys pass through without a screenshot: checked all the same.
const audit = (page, name) => check(page, name, false);

// A photo for the host to upload: a small drawing rendered by the browser, as a JPEG.
async function samplePhoto(browser) {
  const context = await browser.newContext({ viewport: { width: 960, height: 640 } });
  const p = await context.newPage();
  await p.setContent(`<body style="margin:0"><div style="width:960px;height:640px;position:relative;
    background:linear-gradient(180deg,#8ec5e8 0%,#d6ecf7 58%,#e6d2a8 58%,#cda874 100%)">
    <div style="position:absolute;left:300px;top:170px;width:360px;height:290px;background:#f6f1e6;border:8px solid #1f5f8b"></div>
    <div style="position:absolute;left:280px;top:120px;width:0;height:0;border-left:200px solid transparent;border-right:200px solid transparent;border-bottom:70px solid #b3261e"></div>
    <div style="position:absolute;left:440px;top:320px;width:80px;height:140px;background:#1f5f8b"></div>
    <div style="position:absolute;left:340px;top:220px;width:70px;height:60px;background:#9fd0ee;border:4px solid #fff"></div>
    <div style="position:absolute;left:550px;top:220px;width:70px;height:60px;background:#9fd0ee;border:4px solid #fff"></div>
    </div></body>`);
  const buffer = await p.screenshot({ type: "jpeg", quality: 85 });
  await context.close();
  return buffer;
}

async function snap(page, name) {
  await check(page, name, true);
}

async function newPage(browser, problems, options = {}) {
  const context = await browser.newContext({ viewport: DESKTOP, ...options });
  const page = await context.newPage();
  page.on("console", (m) => {
    // A form answered 422 on purpose (a refused IBAN) is the page working, not a problem.
    const refusedForm = /status of 422/.test(m.text()) && expectedRefusals.has(page.url());
    if (m.type() === "error" && !refusedForm) problems.push(`${page.url()}: console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`${page.url()}: script error: ${e.message}`));
  // The card provider's page (the fake of it, on its own origin) is not Innkeep's to check.
  page.on("load", () => {
    if (page.url().startsWith(`${BASE}/`)) loaded.set(route(page.url()), page.url());
  });
  return page;
}

// The operator's two-factor recovery codes, once it has set two-factor sign-in up.
let recoveryCodes = [];

async function signIn(page, email, code) {
  await page.goto(`${BASE}/signin`);
  if (!checked.has("/signin")) await audit(page, "signin");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState();
  if (code) {
    // Two-factor sign-in: the page asks for the code and keeps the address.
    await audit(page, "signin-code");
    await page.getByLabel("Authentication code").fill(code);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForLoadState();
  }
  expect(!page.url().includes("/signin"), `${email} signed in (at ${page.url()})`);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    console.error(`FAIL ${name}: ${e.message}`);
    throw e;
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const problems = [];
let failed = false;
try {
  const host = await newPage(browser, problems);
  const guest = await newPage(browser, problems);
  const admin = await newPage(browser, problems);

  await step("host creates a property", async () => {
    await signIn(host, "host@demo.innkeep.dev");
    await host.goto(`${BASE}/host`);
    await snap(host, "host-properties");
    await host.getByRole("link", { name: "Add a property" }).click();
    await host.getByLabel("Name", { exact: true }).fill(propertyName);
    await host.getByLabel("Description").fill("Made by the browser journey.");
    await host.getByLabel("Street address").fill("Rua da Prova 1");
    await host.getByLabel("City").fill(city);
    // The map's pin sets the coordinates: a click on the map fills them in.
    const pinMap = host.locator("#pin-map");
    await pinMap.waitFor();
    await pinMap.click({ position: { x: 200, y: 120 } });
    const picked = await host.getByLabel("Latitude").inputValue();
    expect(/^-?\d+\.\d{5}$/.test(picked), `a click on the map fills the latitude (${picked})`);
    await host.getByLabel("Latitude").fill("38.5714");
    await host.getByLabel("Longitude").fill("-7.9135");
    await host.getByLabel("Longitude").dispatchEvent("change");
    expect((await host.locator("#pin-map .leaflet-marker-icon").count()) === 1, "one pin, where the coordinates say");
    await host.getByLabel("Wi-Fi").check();
    await host.getByLabel("When guests pay").selectOption("prepay");
    await snap(host, "host-new-property");
    await host.getByRole("button", { name: "Create property" }).click();
    await host.waitForURL(/\/host\/properties\/[0-9a-f-]{36}$/);
    expect((await host.locator("h1").textContent()).includes(propertyName), "property page shows its name");
    await audit(host, "host-property-new");
  });

  await step("host uploads a photo", async () => {
    await host.getByLabel(/^Photo \(JPEG/).setInputFiles({ name: "front.jpg", mimeType: "image/jpeg", buffer: await samplePhoto(browser) });
    await host.getByLabel("Description for people who cannot see it").fill("The blue door of the journey inn");
    await host.getByRole("button", { name: "Upload photo" }).click();
    await host.waitForURL(/photo=added/);
    expect(await host.getByText("Photo added.").isVisible(), "upload confirmed");
    const img = host.locator("#photos img[alt='The blue door of the journey inn']");
    await img.waitFor();
    // Wait for the image itself to arrive (loaded or failed), then check what arrived.
    await img.evaluate((el) => el.complete || new Promise((done) => { el.addEventListener("load", done); el.addEventListener("error", done); }));
    // The 960 px upload is kept in widths 320, 640 and 960; the browser picks one by srcset
    // (and reports its width divided by the density it chose).
    const [width, src] = await img.evaluate((el) => [el.naturalWidth, el.currentSrc]);
    expect(width > 0 && /\?w=(320|640|960)$/.test(src), `the uploaded photo loads in one of its sizes (${width} px shown, ${src})`);
    await snap(host, "host-property");
  });

  await step("host adds a room type", async () => {
    await host.getByLabel("Name", { exact: true }).fill("Journey Double");
    await host.getByLabel(/Nightly rate/).fill("120");
    await host.getByLabel("VAT % (optional)").fill("6");
    await host.getByLabel("Row 1: children up to age").fill("11");
    await host.getByLabel(/^Row 1: price per night/).fill("15");
    await snap(host, "host-room-type-form");
    await host.getByRole("button", { name: "Add room type" }).click();
    await host.waitForURL(/\/host\/room-types\/[0-9a-f-]{36}\/calendar/);
    await audit(host, "host-calendar-new");
  });

  await step("host sets rates on a range", async () => {
    await host.getByLabel("First night").fill(checkIn);
    await host.getByLabel("Last night").fill(lastNight);
    await host.getByLabel("Price per night").fill("99.50");
    await host.getByRole("button", { name: "Save range" }).click();
    await host.waitForURL(/saved=1/);
    expect(await host.getByText("Calendar updated.").isVisible(), "calendar saved");
    await host.goto(host.url().replace(/month=[0-9-]+/, `month=${checkIn.slice(0, 7)}`));
    expect((await host.locator(`td[data-date="${checkIn}"]`).textContent()).includes("99.50"), "new price in the grid");
    await snap(host, "host-calendar");
  });

  await step("host picks a range of nights on the calendar, by mouse and by keyboard", async () => {
    const days = host.locator("table.calendar button.pick");
    const n = await days.count();
    expect(n >= 28, `the month's nights can be picked (${n})`);
    const dateOf = (i) => days.nth(i).evaluate((b) => b.closest("td").getAttribute("data-date"));
    const from = host.getByLabel("First night");
    const to = host.getByLabel("Last night");
    // The last night first: the range still comes out in order.
    await days.nth(6).click();
    expect((await from.inputValue()) === (await dateOf(6)), "the first click fills the first night");
    await days.nth(3).click();
    expect((await from.inputValue()) === (await dateOf(3)) && (await to.inputValue()) === (await dateOf(6)),
      `the second click completes the range (${await from.inputValue()} to ${await to.inputValue()})`);
    expect((await host.locator("table.calendar td.sel").count()) === 4, "the four nights are marked");
    expect((await host.locator("table.calendar button.pick[aria-pressed=true]").count()) === 4, "and say so to screen readers");
    await snap(host, "host-calendar-range");
    // On a phone, by keyboard: one day is in the tab order, arrows move, Enter picks.
    await host.setViewportSize(PHONE);
    await host.goto(host.url());
    const stop = host.locator("table.calendar button.pick[tabindex='0']");
    expect((await stop.count()) === 1, "one day is a tab stop");
    await stop.focus();
    await host.keyboard.press("ArrowRight");
    await host.keyboard.press("ArrowRight");
    await host.keyboard.press("Enter");
    await host.keyboard.press("ArrowDown");
    await host.keyboard.press("Enter");
    const [a, b] = [await dateOf(2), await dateOf(9)];
    expect((await from.inputValue()) === a && (await to.inputValue()) === b,
      `the keyboard picks ${a} to ${b} (${await from.inputValue()} to ${await to.inputValue()})`);
    expect(await days.nth(9).evaluate((el) => el === document.activeElement), "focus follows the arrows");
    // The form still saves what was picked, and the calendar keeps its month.
    const month = new URL(host.url()).searchParams.get("month");
    await host.getByLabel("Minimum stay (nights)").fill("1");
    await host.getByRole("button", { name: "Save range" }).click();
    await host.waitForURL(/saved=1/);
    expect(new URL(host.url()).searchParams.get("month") === month, "the calendar keeps its month");
    await host.setViewportSize(DESKTOP);
  });

  await step("check-out follows check-in on the search form", async () => {
    for (const size of [DESKTOP, PHONE]) {
      await guest.setViewportSize(size);
      await guest.goto(`${BASE}/`);
      const ci = guest.getByLabel("Check-in");
      const co = guest.getByLabel("Check-out");
      const today = await guest.evaluate(() => { const d = new Date(); return new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate())).toISOString().slice(0, 10); });
      expect((await ci.getAttribute("min")) === today, `check-in starts today (${await ci.getAttribute("min")})`);
      await ci.fill(isoDay(40));
      await co.fill(isoDay(44));
      await ci.fill(isoDay(46));
      expect((await co.inputValue()) === isoDay(50), `check-out moves and keeps the four nights (${await co.inputValue()})`);
      expect((await co.getAttribute("min")) === isoDay(47), "check-out cannot be before the first night");
      await ci.fill(isoDay(41));
      expect((await co.inputValue()) === isoDay(50), "an earlier check-in leaves check-out alone");
    }
    await guest.setViewportSize(DESKTOP);
  });

  await step("guest chooses a Lisbon stay on the map", async () => {
    await guest.goto(`${BASE}/stays?city=Lisbon&check_in=${isoDay(60)}&check_out=${isoDay(62)}&adults=2`);
    const cards = guest.locator("#results li.card");
    const total = await cards.count();
    expect(total >= 5, `Lisbon has stays (${total})`);
    await guest.waitForSelector("#map .pin");
    const zoom = async () => Number(await guest.locator("#map").getAttribute("data-zoom"));
    const shown = () => guest.locator("#map .pin").evaluateAll((pins) => pins.map((p) => (p.classList.contains("group") ? parseInt(p.textContent, 10) : 1)));
    const counts = await shown();
    expect(counts.reduce((a, b) => a + b, 0) === total, `every stay is on the map once (${counts.join("+")} of ${total})`);
    expect(counts.length > 1, `the stays are not one dot (${counts.length} markers)`);
    const prices = await cards.evaluateAll((els) => els.map((e) => e.getAttribute("data-price").replace(/\.00$/, "")));
    const labels = await guest.locator("#map .pin:not(.group)").allTextContents();
    expect(labels.length > 0 && labels.every((l) => prices.includes(l)), `markers show the prices (${labels.join(", ")})`);
    await snap(guest, "stays-lisbon");
    // List and map in sync, both ways.
    await cards.first().hover();
    expect((await guest.locator("#map .pin-at.active").count()) === 1, "hovering a result lights its marker");
    const single = guest.locator("#map .pin-at", { has: guest.locator(".pin:not(.group)") }).first();
    const name = (await single.getAttribute("aria-label")).split(",")[0];
    await single.locator(".pin").hover();
    const lit = guest.locator("#results li.card.active");
    expect((await lit.count()) === 1 && (await lit.getAttribute("data-name")) === name, `hovering a marker lights its result (${name})`);
    await guest.mouse.move(0, 0);
    await cards.first().getByRole("link").first().focus();
    expect((await guest.locator("#map .pin-at.active").count()) === 1, "focusing a result lights its marker");
    // Markers are reached by keyboard; Enter opens one.
    expect((await single.getAttribute("tabindex")) === "0" && (await single.getAttribute("role")) === "button", "markers are focusable buttons");
    await single.focus();
    await guest.keyboard.press("Enter");
    const link = guest.locator("#map .leaflet-popup a").first();
    await link.waitFor();
    expect(await link.evaluate((a) => a === document.activeElement), "Enter on a marker opens it and focuses its link");
    expect((await link.textContent()).startsWith(name), "the marker's stay");
    // Zoomed out, nearby stays merge into one marker with their count; Enter on it zooms in.
    expect(await guest.getByRole("button", { name: "Search this area" }).isHidden(), "no area search before the map moves");
    for (let i = 0; i < 8 && (await guest.locator("#map .pin.group").count()) === 0; i++) {
      const z = await zoom();
      await guest.locator(".leaflet-control-zoom-out").click();
      await guest.waitForFunction((z) => Number(document.getElementById("map").dataset.zoom) < z, z);
    }
    const group = guest.locator("#map .pin-at", { has: guest.locator(".pin.group") }).first();
    expect((await group.count()) === 1, "markers merge when the map is zoomed out");
    expect(/^[0-9]+ stays from /.test(await group.getAttribute("aria-label")), "a merged marker says how many stays and from what price");
    const before = await zoom();
    await group.focus();
    await guest.keyboard.press("Enter");
    await guest.waitForFunction((z) => Number(document.getElementById("map").dataset.zoom) > z, before);
    expect(await guest.evaluate(() => document.activeElement.classList.contains("pin-at")), "focus stays on the map's markers");
    // A click on a merged marker zooms in too.
    const another = guest.locator("#map .pin.group").first();
    if ((await another.count()) === 1) {
      const z = await zoom();
      await another.click();
      await guest.waitForFunction((z) => Number(document.getElementById("map").dataset.zoom) > z, z);
    }
    const area = guest.getByRole("button", { name: "Search this area" });
    expect(await area.isVisible(), "the moved map offers a search of its area");
    await snap(guest, "stays-map");
    await area.click();
    await guest.waitForURL(/bbox=/);
    const box = new URL(guest.url()).searchParams.get("bbox").split(",").map(Number);
    const found = await guest.locator("#results li.card").evaluateAll((els) => els.map((e) => [Number(e.dataset.lat), Number(e.dataset.lon)]));
    expect(found.length >= 1 && found.length <= total, `the area has stays (${found.length})`);
    expect(found.every(([la, lo]) => la >= box[0] && la <= box[2] && lo >= box[1] && lo <= box[3]), `every result lies in the area ${box}`);
    await audit(guest, "stays-area");
    // On a phone the list comes first, and a button switches to the map and back.
    await guest.setViewportSize(PHONE);
    expect((await guest.locator("section.map").isHidden()) && (await guest.locator("#results").isVisible()), "the list first on a phone");
    await guest.getByRole("button", { name: "Show map" }).click();
    await guest.locator("#map .pin").first().waitFor();
    expect((await guest.locator("section.map").isVisible()) && (await guest.locator("#results").isHidden()), "the map instead of the list");
    const inside = await guest.evaluate(() => {
      const m = document.getElementById("map").getBoundingClientRect();
      const p = document.querySelector("#map .pin").getBoundingClientRect();
      return p.left >= m.left && p.right <= m.right && p.top >= m.top && p.bottom <= m.bottom && m.height > 200;
    });
    expect(inside, "the map is drawn at the phone's size, with its markers in view");
    await guest.screenshot({ path: `${SHOTS}/stays-map-shown-phone.png`, fullPage: true });
    // The map instead of the list exists only at phone width: checked there.
    noViolations(await axeViolations(guest, "stays-map-shown", "phone"));
    const overflow = await guest.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 1, `the map fits a phone screen (overflows by ${overflow}px)`);
    await guest.getByRole("button", { name: "Show list" }).click();
    expect(await guest.locator("#results").isVisible(), "and back to the list");
    await guest.setViewportSize(DESKTOP);
  });

  let tripText = "";
  let checkoutUrl = "";
  await step("guest searches, books and pays by card", async () => {
    await guest.goto(`${BASE}/`);
    await snap(guest, "home");
    await signIn(guest, "guest@demo.innkeep.dev");
    await guest.goto(`${BASE}/`);
    await guest.getByLabel("Destination").fill("Evora");
    await guest.getByLabel("Check-in").fill(checkIn);
    await guest.getByLabel("Check-out").fill(checkOut);
    await guest.getByRole("button", { name: "Search" }).click();
    await guest.waitForURL(/\/stays\?/);
    const card = guest.locator("#results li", { hasText: propertyName });
    expect((await card.count()) === 1, "the new property is in the results");
    await guest.waitForSelector("#map.leaflet-container");
    expect((await guest.locator("#map .pin-at").count()) >= 1, "a marker on the map");
    // No tile server is configured: the base layer is the shipped country outlines.
    await guest.waitForSelector("#map path.land", { state: "attached" });
    expect((await guest.locator("#map path.land").count()) > 100, "country outlines drawn under the markers");
    expect(await card.locator("img.photo").evaluate((el) => el.complete && el.naturalWidth > 0), "the result shows the photo");
    await snap(guest, "stays");
    await card.getByRole("link", { name: propertyName }).click();
    await guest.waitForURL(/\/properties\//);
    expect(await guest.getByText("Next 14 nights").isVisible(), "availability strip");
    const photo = guest.locator(".gallery img[alt='The blue door of the journey inn']");
    expect(await photo.isVisible(), "the photo is on the property page");
    await photo.evaluate((el) => el.complete || new Promise((done) => { el.addEventListener("load", done); el.addEventListener("error", done); }));
    expect(await photo.evaluate((el) => el.complete && el.naturalWidth > 0 && /\?w=(320|640|960)$/.test(el.currentSrc)), "and it loaded in one of its sizes");
    await snap(guest, "property");
    await guest.getByRole("button", { name: "Book Journey Double" }).click();
    await guest.waitForURL(/\/checkout\?/);
    expect((await guest.locator("tfoot").first().textContent()).includes("EUR"), "checkout shows the quote");
    await snap(guest, "checkout");
    checkoutUrl = guest.url();
    await guest.getByRole("button", { name: "Hold this room" }).click();
    await guest.waitForURL(/\/checkout\/[0-9a-f-]{36}$/);
    await guest.waitForFunction(() => /left\)/.test(document.querySelector(".remaining")?.textContent || ""));
    await snap(guest, "hold");
    // The property takes payment up front: confirming without paying is not offered.
    expect((await guest.getByRole("button", { name: "Confirm booking" }).count()) === 0, "no confirm without payment");
    await guest.getByRole("button", { name: "Pay by card" }).click();
    // The payments consumer asks the provider; the page looks again until it can send the guest there.
    const enter = guest.getByRole("link", { name: "Enter card details" });
    await enter.waitFor({ timeout: 20000 });
    await snap(guest, "pay-card");
    await enter.click();
    await guest.waitForURL(/\/_fake\/checkout\//);
    await guest.getByLabel("Visa 4242 (succeeds)").check();
    await guest.getByRole("button", { name: /^Pay / }).click();
    // Back from the provider, the page waits for the provider's event to confirm the booking.
    await guest.waitForURL(/\/checkout\/[0-9a-f-]{36}\?/);
    try {
      await guest.getByRole("heading", { name: "Booking confirmed" }).waitFor({ timeout: 20000 });
    } catch (e) {
      console.error(`at ${guest.url()}: ${await guest.locator("main").textContent()}`);
      throw e;
    }
    await audit(guest, "confirmed");
    await guest.goto(`${BASE}/trips`);
    tripText = await guest.locator(".trip", { hasText: propertyName }).first().textContent();
    expect(tripText.includes("confirmed"), "the trip is confirmed");
    expect(/paid EUR/.test(tripText), `the trip shows what was paid (${tripText})`);
    await snap(guest, "trips");
    // The trip's own page: the stay, the price, the terms, a calendar entry and a receipt.
    await guest.locator(".trip", { hasText: propertyName }).first().getByRole("link", { name: propertyName }).click();
    await guest.waitForURL(/\/trips\/[0-9a-f-]{36}$/);
    expect(await guest.getByRole("heading", { name: "If you cancel" }).isVisible(), "the trip page shows the terms");
    expect(await guest.getByRole("link", { name: /Add to calendar/ }).isVisible(), "and offers the stay's calendar entry");
    await snap(guest, "trip");
    await guest.getByRole("link", { name: "Receipt" }).click();
    await guest.waitForURL(/\/receipt$/);
    const receipt = await guest.locator("main").textContent();
    expect(/Paid online\s*EUR/.test(receipt), `the receipt shows what was paid (${receipt})`);
    await snap(guest, "receipt");
  });

  await step("guest pays a second stay by bank transfer; the statement confirms it", async () => {
    const later = new URL(checkoutUrl);
    later.searchParams.set("check_in", isoDay(50));
    later.searchParams.set("check_out", isoDay(52));
    await guest.goto(later.toString());
    await guest.getByRole("button", { name: "Hold this room" }).click();
    await guest.waitForURL(/\/checkout\/[0-9a-f-]{36}$/);
    const booking = guest.url().split("/").pop();
    await guest.getByRole("button", { name: "Pay by bank transfer" }).click();
    await guest.waitForURL(/\/checkout\/[0-9a-f-]{36}$/);
    const reference = (await guest.locator(".reference").textContent()).trim();
    expect(/^RF[0-9]{2}/.test(reference), `a structured reference to quote (${reference})`);
    await snap(guest, "pay-transfer");
    // The operator imports the bank's statement (CSV) through the API.
    const api = async (method, path, token, body, headers = {}) => {
      const r = await fetch(`${BASE}${path}`, { method, body, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      return { status: r.status, body: await r.json().catch(() => null) };
    };
    const session = await api("POST", "/api/v1/sessions", null, JSON.stringify({ email: "admin@demo.innkeep.dev", password: PASSWORD }), { "content-type": "application/json" });
    expect(session.status === 201, `admin signs in over the API (${session.status})`);
    const token = session.body.token;
    // An operator sets up two-factor sign-in before anything else.
    expect(session.body.two_factor_setup_required === true, "the operator is asked to set up two-factor sign-in");
    const json = { "content-type": "application/json" };
    const enrol = await api("POST", "/api/v1/me/two-factor", token, "{}", json);
    expect(enrol.status === 201, `two-factor enrolment starts (${enrol.status})`);
    const confirmed = await api("POST", "/api/v1/me/two-factor/confirm", token, JSON.stringify({ code: totp(enrol.body.secret) }), json);
    expect(confirmed.status === 200, `two-factor sign-in is on (${JSON.stringify(confirmed.body)})`);
    recoveryCodes = confirmed.body.recovery_codes;
    const payments = await api("GET", `/api/v1/bookings/${booking}/payments`, token);
    const minor = payments.body[0].amount.minor;
    const csv = `date,amount,currency,reference\n${isoDay(0)},${(minor / 100).toFixed(2)},EUR,Booking ${reference}\n`;
    const imported = await api("POST", "/api/v1/payments/statements", token, csv, { "content-type": "text/csv", "idempotency-key": `journey-${suffix}` });
    expect(imported.status === 200 && imported.body.paid === 1, `the statement pays it (${JSON.stringify(imported.body)})`);
    await guest.goto(`${BASE}/checkout/${booking}`);
    expect(await guest.getByRole("heading", { name: "Booking confirmed" }).isVisible(), "the transfer confirmed the booking");
    await audit(guest, "confirmed-by-transfer");
  });

  await step("host sees the booking arrive", async () => {
    await host.goto(`${BASE}/host/bookings`);
    const row = host.locator("#bookings tr", { hasText: propertyName });
    expect((await row.count()) >= 1, "the booking is in the host's list");
    expect((await row.first().textContent()).includes("confirmed"), "and it is confirmed");
    await snap(host, "host-bookings");
  });

  await step("guest cancels and sees the refund first", async () => {
    await guest.goto(`${BASE}/trips`);
    await guest.locator(".trip", { hasText: propertyName }).first().getByRole("link", { name: "Cancel" }).click();
    await guest.waitForURL(/\/cancel$/);
    const refund = await guest.locator(".refund").textContent();
    expect(/EUR/.test(refund), `refund preview shown (${refund})`);
    await snap(guest, "cancel");
    await guest.getByRole("button", { name: /Yes, cancel/ }).click();
    await guest.waitForURL(/cancelled=/);
    expect(await guest.getByText("Booking cancelled").isVisible(), "cancelled");
    await audit(guest, "cancelled");
    // The policy's refund goes back to the card through the provider, a moment later.
    let trip = "";
    for (let i = 0; i < 80 && !/refunded EUR/.test(trip); i++) {
      await guest.waitForTimeout(250);
      await guest.goto(`${BASE}/trips`);
      trip = await guest.locator(".trip", { hasText: "cancelled" }).first().textContent();
    }
    expect(/refunded EUR/.test(trip), `the trip shows the refund (${trip})`);
  });

  await step("host sees its balance and payout account", async () => {
    await host.goto(`${BASE}/host/money`);
    expect((await host.locator(".balances").textContent()).includes("owed to you"), "the balance the platform owes");
    await host.getByLabel("Account holder").fill("Journey Inn Lda");
    expectedRefusals.add(`${BASE}/host/money`);
    await host.getByLabel("IBAN").fill("DE89 3704 0044 0532 0130 01");
    await host.getByRole("button", { name: "Save payout account" }).click();
    expect(await host.getByText("not a valid IBAN").isVisible(), "a mistyped IBAN is refused");
    await audit(host, "host-money-refused");
    await host.getByLabel("IBAN").fill("DE89 3704 0044 0532 0130 00");
    await host.getByRole("button", { name: "Save payout account" }).click();
    await host.waitForURL(/saved=1/);
    expect(await host.getByText("Payout account saved.").isVisible(), "saved");
    await snap(host, "host-money");
  });

  await step("operator dashboard", async () => {
    await signIn(admin, "admin@demo.innkeep.dev", recoveryCodes.pop());
    await admin.goto(`${BASE}/ops`);
    expect((await admin.locator("h1").textContent()).includes("Operations"), "ops page");
    expect((await admin.locator("figure.chart svg rect").count()) > 0, "charts drawn");
    expect((await admin.locator("#chart-latency polyline").count()) >= 1, "latency drawn from measured requests");
    for (const id of ["bookings", "occupancy", "requests", "errors"]) {
      expect((await admin.locator(`#chart-${id} svg`).count()) === 1, `chart ${id}`);
    }
    const made = await admin.locator(".kpi", { hasText: "Bookings made today" }).locator("strong").textContent();
    expect(Number(made.replace(/[^0-9]/g, "")) >= 1, `the journey's booking counts today (${made})`);
    const parts = await admin.locator("#health tbody th").allTextContents();
    for (const part of ["database", "NATS relay", "search index (this node)", "object storage"]) {
      expect(parts.includes(part), `health lists ${part} (${parts.join(", ")})`);
    }
    expect(await admin.getByRole("heading", { name: "Alerts" }).isVisible(), "alerts section");
    expect(await admin.getByRole("heading", { name: "Failed payments" }).isVisible(), "failed payments section");
    expect(await admin.getByRole("heading", { name: "Statement lines to review" }).isVisible(), "statement lines section");
    await snap(admin, "ops");
  });

  await step("a traveller on a phone books in Portuguese: dates on the picker, a child's age, the terms first, the trip first, its receipt", async () => {
    const pt = await newPage(browser, problems, { locale: "pt-PT" });
    await pt.setViewportSize(PHONE);
    await pt.goto(`${BASE}/`);
    expect((await pt.locator("html").getAttribute("lang")) === "pt", "the browser's language chooses the pages' language");
    expect(await pt.getByRole("heading", { name: "Encontre onde ficar" }).isVisible(), "the home page in Portuguese");
    await snap(pt, "home-pt");
    await pt.setViewportSize(PHONE);
    await pt.goto(`${BASE}/signin`);
    await audit(pt, "signin-pt");
    await pt.setViewportSize(PHONE);
    await pt.getByLabel("E-mail").fill("guest@demo.innkeep.dev");
    await pt.getByLabel("Palavra-passe").fill(PASSWORD);
    await pt.getByRole("button", { name: "Iniciar sessão" }).click();
    await pt.waitForLoadState();
    await pt.goto(`${BASE}/`);
    await pt.getByLabel("Destino").fill("Evora");
    const month = isoDay(100).slice(0, 7);
    await pt.getByLabel("Entrada").fill(isoDay(100));
    await pt.getByLabel("Saída").fill(isoDay(102));
    // A field for the child's age appears with the number of children.
    await pt.getByLabel("Crianças").fill("1");
    const age = pt.getByLabel("Idade da criança 1");
    await age.waitFor();
    await age.selectOption("7");
    await pt.getByRole("button", { name: "Pesquisar" }).click();
    await pt.waitForURL(/\/stays\?/);
    const card = pt.locator("#results li", { hasText: propertyName });
    expect((await card.count()) === 1, "the journey's property is found");
    expect(/€/.test(await card.locator(".price").textContent()), "prices as a Portuguese reader writes them");
    await audit(pt, "stays-pt");
    await pt.setViewportSize(PHONE);
    await card.getByRole("link", { name: propertyName }).click();
    await pt.waitForURL(/\/properties\//);
    // The date picker: a month of days with the price of each night; the first is the check-in.
    const days = pt.locator("table.picker-days a");
    expect((await days.count()) > 20, `the month's free nights can be chosen (${await days.count()})`);
    expect(/^[0-9]/.test((await days.first().locator(".p").textContent()).trim()), "each shows a price");
    await snap(pt, "property-pt");
    await pt.setViewportSize(PHONE);
    const first = await days.first().getAttribute("href");
    const checkInChosen = new URL(first, BASE).searchParams.get("check_in");
    expect(checkInChosen.startsWith(month), `a day of ${month} (${checkInChosen})`);
    await days.first().click();
    await pt.waitForURL(/pick=out/);
    expect((await pt.locator("#picker-hint").textContent()).includes("Escolha agora o seu dia de saída"), "then the check-out");
    await audit(pt, "property-picking-pt");
    await pt.setViewportSize(PHONE);
    const outs = pt.locator(`table.picker-days a[href*="check_in=${checkInChosen}"]:not([href*="pick=out"])`);
    await outs.nth(1).click();
    await pt.waitForURL((u) => !u.searchParams.has("pick") && u.searchParams.get("check_in") === checkInChosen);
    expect((await pt.locator("table.picker-days td.check-in").count()) === 1 && (await pt.locator("table.picker-days td.check-out").count()) === 1, "the stay is marked");
    expect(await pt.getByRole("heading", { name: "Quartos para 2 noites" }).isVisible(), "two nights chosen");
    await audit(pt, "property-picked-pt");
    await pt.setViewportSize(PHONE);
    await pt.getByRole("button", { name: "Reservar Journey Double" }).click();
    await pt.waitForURL(/\/checkout\?/);
    // The terms and the refund schedule before booking, and the party with the child's age.
    expect(await pt.getByRole("heading", { name: /^Cancelamento/ }).isVisible(), "the cancellation terms before booking");
    expect((await pt.locator(".panel .meta").first().textContent()).includes("1 criança (com 7 anos)"), "the child's age goes with the stay");
    expect((await pt.locator("main").textContent()).includes("Preços para crianças"), "the host's children's rate prices the child of 7");
    await snap(pt, "checkout-pt");
    await pt.setViewportSize(PHONE);
    await pt.getByRole("button", { name: "Reservar este quarto" }).click();
    await pt.waitForURL(/\/checkout\/[0-9a-f-]{36}$/);
    expect(await pt.getByRole("heading", { name: "O seu quarto está reservado" }).isVisible(), "the room is held");
    await pt.waitForFunction(() => /restam/.test(document.querySelector(".remaining")?.textContent || ""));
    await audit(pt, "hold-pt");
    // My trips: the new booking first, marked.
    await pt.goto(`${BASE}/trips`);
    const newest = pt.locator("ul.trips li.trip").first();
    expect((await newest.textContent()).includes(propertyName), "the new booking is the first trip");
    await snap(pt, "trips-pt");
    await pt.setViewportSize(PHONE);
    await newest.getByRole("link", { name: propertyName }).click();
    await pt.waitForURL(/\/trips\/[0-9a-f-]{36}$/);
    expect(await pt.getByRole("heading", { name: "Se cancelar" }).isVisible(), "the trip page shows the terms");
    await audit(pt, "trip-pt");
    await pt.setViewportSize(PHONE);
    await pt.getByRole("link", { name: "Recibo" }).click();
    await pt.waitForURL(/\/receipt$/);
    expect(/Total/.test(await pt.locator("main").textContent()), "the receipt");
    await snap(pt, "receipt-pt");
    // The switch: the same page in English, and it stays so.
    await pt.getByRole("link", { name: "English" }).click();
    await pt.waitForURL(/\/receipt$/);
    expect((await pt.locator("html").getAttribute("lang")) === "en" && (await pt.getByRole("heading", { name: "Receipt" }).isVisible()), "the switch changes the language");
    await pt.context().close();
    // German, from the browser's language too.
    const de = await newPage(browser, problems, { locale: "de-DE" });
    await de.goto(`${BASE}/`);
    expect(await de.getByRole("heading", { name: "Finden Sie eine Unterkunft" }).isVisible(), "the home page in German");
    await snap(de, "home-de");
    await de.context().close();
  });

  await step("a family takes two rooms in one booking: the party shared between them, each room priced", async () => {
    const fam = await newPage(browser, problems);
    await signIn(fam, "guest@demo.innkeep.dev");
    await fam.goto(`${BASE}/`);
    await fam.getByLabel("Destination").fill("Evora");
    await fam.getByLabel("Check-in").fill(isoDay(120));
    await fam.getByLabel("Check-out").fill(isoDay(122));
    await fam.getByLabel("Adults").fill("3");
    await fam.getByLabel("Rooms").fill("2");
    await fam.getByRole("button", { name: "Search" }).click();
    await fam.waitForURL(/\/stays\?.*rooms=2/);
    const card = fam.locator("#results li", { hasText: propertyName });
    expect((await card.count()) === 1, "three adults find the property's double rooms, two of them");
    await audit(fam, "stays-rooms");
    await card.getByRole("link", { name: propertyName }).click();
    await fam.waitForURL(/\/properties\/.*rooms=2/);
    expect((await fam.locator("table.breakdown").first().textContent()).includes("2 nights × 2 rooms"), "every room priced");
    expect((await fam.getByLabel("Rooms").inputValue()) === "2", "the property's form keeps the rooms");
    await audit(fam, "property-rooms");
    await fam.getByRole("button", { name: "Book Journey Double" }).click();
    await fam.waitForURL(/\/checkout\?.*rooms=2/);
    expect((await fam.locator(".panel .meta").first().textContent()).includes("3 adults, 2 rooms"), "the party and its rooms at checkout");
    await snap(fam, "checkout-rooms");
    await fam.getByRole("button", { name: "Hold these rooms" }).click();
    await fam.waitForURL(/\/checkout\/[0-9a-f-]{36}$/);
    await audit(fam, "hold-rooms");
    await fam.context().close();
  });

  await step("every page the journeys visited was checked with axe", async () => {
    const unchecked = [...loaded].filter(([r]) => !checked.has(r)).map(([r, url]) => `${r} (${url})`);
    expect(unchecked.length === 0, `not checked: ${unchecked.join(", ")}`);
  });
  const csp = problems.filter((p) => /Content Security Policy|Refused to/.test(p));
  expect(csp.length === 0, `no CSP violations: ${csp.join("; ")}`);
  expect(problems.length === 0, `no script or console errors: ${problems.join("; ")}`);
} catch (e) {
  failed = true;
  if (problems.length) console.error(problems.join("\n"));
} finally {
  await browser.close();
}
if (failed) process.exit(1);
console.log(`all journeys passed; screenshots in ${SHOTS}`);
