// Headless browsers for the tests: Debian's Chromium through playwright-core, and Debian's
// Firefox ESR through puppeteer-core over WebDriver BiDi (Playwright drives only its own Firefox
// build, which this machine cannot download). Both are installed by scripts/setup.sh. The tests
// use what the two APIs share: goto, evaluate, title, the pageerror/console/response/requestfailed
// events; `waitFor` hides the one signature that differs.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The browsers every browser test runs in. */
export const BROWSERS = ["chromium", "firefox"];

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Starts `name` headless: `{ newPage(), close() }`. */
export async function launch(name) {
  if (name === "chromium") {
    const { chromium } = await import(join(root, "node_modules/playwright-core/index.mjs"));
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
    return { newPage: () => browser.newPage(), close: () => browser.close() };
  }
  if (name === "firefox") {
    const { default: puppeteer } = await import(join(root, "node_modules/puppeteer-core/lib/esm/puppeteer/puppeteer-core.js"));
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: "/usr/bin/firefox-esr",
      headless: true,
      // No network beyond the tests' own servers: no updates, telemetry or remote settings.
      extraPrefsFirefox: { "app.update.enabled": false, "datareporting.policy.dataSubmissionEnabled": false, "network.captive-portal-service.enabled": false, "browser.region.network.url": "", "services.settings.server": "http://127.0.0.1:1/" },
    });
    return { newPage: () => browser.newPage(), close: () => browser.close() };
  }
  throw new Error(`unknown browser ${name}`);
}

/** Waits until `fn` (run in the page) is truthy, for at most `timeout` ms; whether it became so. */
export async function waitFor(page, fn, timeout) {
  try {
    // Playwright takes (fn, arg, options); Puppeteer takes (fn, options).
    if (typeof page.context === "function" && typeof page.getByTestId === "function") await page.waitForFunction(fn, null, { timeout });
    else await page.waitForFunction(fn, { timeout });
    return true;
  } catch {
    return false;
  }
}
