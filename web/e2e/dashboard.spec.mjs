// End-to-end test of the dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; never `npx playwright install`). Starts `qingshui demo` on a temporary data
// directory and free loopback ports, then: overview (18 station markers and 52 video points
// really drawn), a station (its chart has data), the language switch, the assessment page, the
// alerts page, at 1366×768 and at 1920×1080. Any browser console error fails the test.
// Screenshots go to test-output/ at the repository root.
//
//   node web/e2e/dashboard.spec.mjs        (QINGSHUI_BIN or $CARGO_TARGET_DIR/debug/qingshui)
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const out = resolve(repo, 'test-output');
mkdirSync(out, { recursive: true });

const bin =
  process.env.QINGSHUI_BIN ??
  [process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'debug/qingshui'), join(repo, 'target/debug/qingshui')].find((p) => p && existsSync(p));
if (!bin || !existsSync(bin)) {
  console.error('qingshui binary not found: set QINGSHUI_BIN or CARGO_TARGET_DIR (cargo build -p qingshui)');
  process.exit(2);
}
const chromePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

const httpPort = await freePort();
const hjPort = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), 'qingshui-e2e-'));
const base = `http://127.0.0.1:${httpPort}`;
const sipPort = await freePort();
// The first account of a fresh install, made with the CLI before the server starts (as a
// newcomer would): the dashboard logs in with it and acknowledges under its name.
execFileSync(bin, ['user', '--data-dir', dataDir, 'add', 'duty', '--role', 'operator', '--display-name', '值班员', '--password-stdin'], { input: 'duty-officer-1\n' });
execFileSync(bin, ['user', '--data-dir', dataDir, 'add', 'li', '--role', 'reviewer', '--display-name', '李审核', '--password-stdin'], { input: 'reviewer-pass-1\n' });
execFileSync(bin, ['user', '--data-dir', dataDir, 'add', 'boss', '--role', 'admin', '--display-name', '管理员', '--password-stdin'], { input: 'admin-pass-123\n' });
const demo = spawn(bin, ['demo', '--data-dir', dataDir, '--http', `127.0.0.1:${httpPort}`, '--hj212', `127.0.0.1:${hjPort}`, '--gb28181', `127.0.0.1:${sipPort}`, '--speed', '600'], {
  cwd: repo,
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true, // own process group: we stop exactly what we started
});
let demoLog = '';
demo.stdout.on('data', (d) => (demoLog += d));
demo.stderr.on('data', (d) => (demoLog += d));

let browser;
async function cleanup() {
  await browser?.close().catch(() => {});
  try {
    process.kill(-demo.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  await sleep(500);
  rmSync(dataDir, { recursive: true, force: true });
}

try {
  // Wait for the network API (history backfill runs first).
  const t0 = Date.now();
  for (;;) {
    if (demo.exitCode !== null) throw new Error(`qingshui demo exited (${demo.exitCode}):\n${demoLog}`);
    try {
      // Ready once the history backfill has given every station its latest values.
      const r = await fetch(`${base}/api/v1/network`);
      if (r.ok) {
        const n = await r.json();
        if (n.stations.length && n.stations.every((s) => s.latest.some((l) => l.value !== null))) break;
      }
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > 180_000) throw new Error(`demo not ready after 180 s:\n${demoLog}`);
    await sleep(500);
  }
  console.log(`demo ready on ${base} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const index = await (await fetch(`${base}/`)).text();
  check(index.includes('/assets/'), 'the binary serves the built dashboard (not the fallback page: run make web-build first)');

  browser = await chromium.launch({
    executablePath: chromePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });

  const consoleErrors = [];
  const watch = (page, label) => {
    page.on('console', (m) => {
      // The browser logs the expected 503 of "Live video" in a demo without a media server.
      if (m.type() === 'error' && (m.location()?.url ?? '').endsWith('/api/v1/video/V01/play')) return;
      if (m.type() === 'error') consoleErrors.push(`[${label}] ${m.text()} ${m.location()?.url ?? ''}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`[${label}] page error: ${e.message}`));
    page.on('requestfailed', (r) => {
      // An EventSource closed by navigation is aborted on purpose.
      if (!r.url().includes('/api/v1/events')) consoleErrors.push(`[${label}] request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
  };

  // ---- Laptop, Chinese browser --------------------------------------------------------------
  const laptop = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
  const page = await laptop.newPage();
  watch(page, '1366');
  await page.goto(`${base}/#/overview`);
  await page.waitForFunction(() => window.qingshuiMap && window.qingshuiMap.stations > 0, null, { timeout: 30000 });
  await page.waitForTimeout(500);
  const drawn = await page.evaluate(() => window.qingshuiMap);
  check(drawn.stations === 18, `overview draws 18 station markers (drew ${drawn.stations})`);
  check(drawn.videos === 52, `overview draws 52 video points (drew ${drawn.videos})`);
  // The sky layer: the demo's three scenes (sent at its start) on the map, and the timeline.
  for (let i = 0; i < 30 && (await page.locator('[data-testid="scene-timeline"] button').count()) < 3; i++) {
    await page.waitForTimeout(1000);
    await page.reload();
    await page.waitForFunction(() => window.qingshuiMap && window.qingshuiMap.stations > 0, null, { timeout: 30000 });
  }
  check((await page.locator('[data-testid="scene-timeline"] button').count()) === 3, 'the scene timeline lists the demo\'s 3 scenes');
  await page.waitForFunction(() => window.qingshuiMap && window.qingshuiMap.scene === 1, null, { timeout: 10000 }).catch(() => {});
  check((await page.evaluate(() => window.qingshuiMap.scene)) === 1, 'the scene overlay is drawn over the lake');
  await page.waitForFunction(() => (window.qingshuiBloom ?? 0) > 0, null, { timeout: 10000 }).catch(() => {});
  const bloomPoints = await page.evaluate(() => window.qingshuiBloom ?? 0);
  check(bloomPoints === 6, `the bloom-area chart draws 2 basins × 3 scenes (${bloomPoints} points)`);
  const newest = await page.evaluate(() => window.qingshuiScene);
  await page.locator('[data-testid="scene-timeline"] button').first().click();
  const picked = await page.evaluate(() => window.qingshuiScene);
  check(picked !== newest && (await page.locator('[data-testid="scene-timeline"] button[aria-pressed="true"]').count()) === 1, `the timeline switches scenes (${newest} → ${picked})`);
  // The selected scene's figures beside the stations' chl-a follow the timeline.
  const figures = page.locator(`[data-testid="scene-figures"][data-scene="${picked}"]`);
  await figures.waitFor({ timeout: 10000 }).catch(() => {});
  const basinRows = await figures.locator('tr[data-basin]').count();
  const matchups = await figures.locator('tr[data-matchup]').count();
  const fitShown = (await figures.locator('[data-testid="chl-fit"]').count()) === 1;
  const noFitSaid = (await figures.locator('[data-testid="chl-fit-none"]').count()) === 1;
  check(basinRows === 2 && (fitShown ? matchups >= 3 : noFitSaid), `the scene's figures show 2 basins and the chl-a matchups or why there are none (${basinRows} basins, ${matchups} matchups, fit ${fitShown})`);
  check((await page.locator('header nav').innerText()).includes('总览'), 'Chinese by default for a zh-CN browser');
  check((await page.locator('[data-testid="kpi-reporting"]').innerText()).includes('/18'), 'headline: stations reporting of 18');
  await page.waitForFunction(() => !document.querySelector('[data-testid="kpi-lake"]')?.textContent?.includes('加载中'), null, { timeout: 30000 }).catch(() => {});
  await page.screenshot({ path: join(out, 'overview-1366-zh.png') });

  // Click a station (the intake) in the station list.
  await page.locator('tr[data-station="W01"]').click();
  await page.waitForFunction(() => window.qingshuiChart && window.qingshuiChart.points > 0, null, { timeout: 30000 });
  const chartInfo = await page.evaluate(() => window.qingshuiChart);
  check(chartInfo.points > 0, `station W01 chart has data (${chartInfo.points} values, datastream ${chartInfo.datastream})`);
  check(page.url().includes('#/station/W01'), 'the station page opened');
  const canvasDrawn = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="series-chart"] canvas');
    if (!c) return false;
    const ctx = c.getContext('2d');
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4 * 7) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200)) ink++;
    return ink > 500;
  });
  check(canvasDrawn, 'the chart canvas has something drawn');
  check((await page.locator('.values tbody tr').count()) >= 9, 'latest values table lists the parameters');
  await page.screenshot({ path: join(out, 'station-1366-zh.png') });

  // Range selector: month, then back.
  await page.locator('[data-range="month"]').click();
  await page.waitForFunction(() => window.qingshuiChart && window.qingshuiChart.points > 0, null, { timeout: 30000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, 'station-month-1366-zh.png') });

  // Switch the language.
  await page.locator('[data-testid="lang-switch"]').click();
  await page.waitForTimeout(300);
  check((await page.locator('header nav').innerText()).includes('Overview'), 'language switch to English');
  check((await page.evaluate(() => document.documentElement.lang)) === 'en', 'html lang follows the switch');
  await page.waitForFunction(() => window.qingshuiChart && window.qingshuiChart.points > 0, null, { timeout: 30000 });
  await page.screenshot({ path: join(out, 'station-1366-en.png') });

  // Assessment page.
  await page.locator('nav a[data-nav="assessment"]').click();
  await page.waitForSelector('[data-testid="assessment-detail"]', { timeout: 60000 });
  const cards = await page.locator('.acard[data-scope]').count();
  check(cards >= 4, `assessment shows lake, basins, rivers, intake (${cards} cards)`);
  check((await page.locator('[data-testid="assessment-detail"]').innerText()).length > 100, 'assessment detail has content');
  await page.screenshot({ path: join(out, 'assessment-1366-en.png'), fullPage: false });
  // The report download buttons (docs/reports.md): the workbook always; the PDF in a build with
  // the `pdf` feature (make test), else the clear 501.
  const links = page.locator('[data-testid="report-download"] a');
  check((await links.count()) === 2, 'report download offers PDF and Excel');
  for (const i of [0, 1]) {
    const href = await links.nth(i).getAttribute('href');
    const r = await fetch(`${base}${href}`);
    const body = Buffer.from(await r.arrayBuffer());
    if (href.includes('format=xlsx')) {
      check(r.status === 200 && body.subarray(0, 2).toString() === 'PK', `Excel report downloads (${r.status}, ${body.length} bytes)`);
    } else {
      const pdf = r.status === 200 && body.subarray(0, 4).toString() === '%PDF';
      const notBuilt = r.status === 501 && body.toString().includes('xlsx');
      check(pdf || notBuilt, `PDF report downloads or says it is not built (${r.status}, ${body.length} bytes)`);
    }
  }

  // Alerts & video points.
  await page.locator('nav a[data-nav="alerts"]').click();
  await page.waitForSelector('[data-testid="video-list"] tbody tr');
  check((await page.locator('[data-testid="video-list"] tbody tr').count()) === 52, 'video-point list has 52 rows');
  // The demo's 52 simulated GB/T 28181 cameras registered: every point has a known state.
  {
    // The cameras all start once the demo is up: wait until all registered, then let
    // the page fetch the network again (its copy may predate the last registrations).
    let known = 0;
    for (let i = 0; i < 30; i++) {
      const n = await (await fetch(`${base}/api/v1/network`)).json();
      known = n.video_points.filter((v) => v.online !== null).length;
      if (known === 52) break;
      await sleep(1000);
    }
    check(known === 52, `every video point has a known state over GB/T 28181 (${known}/52)`);
    await page.reload();
    await page.waitForSelector('[data-testid="video-list"] tbody tr');
    const unknown = await page.locator('[data-testid="video-list"] .dot.unknown').count();
    check(unknown === 0, `the video-point list shows no "status unknown" (${unknown})`);
  }
  await page.screenshot({ path: join(out, 'alerts-1366-en.png') });

  // The demo's intrusion (V01, 20 s after start): its alert links the snapshot the simulated
  // camera uploaded; the pop-up (if the page was open when it arrived) and V01's camera panel
  // show it as an image that really loaded.
  {
    let linked = null;
    for (let i = 0; i < 90 && !linked; i++) {
      const list = await (await fetch(`${base}/api/v1/alerts?rule=intrusion`)).json();
      linked = list.value.find((a) => a.source === 'V01' && typeof a.details?.snapshot === 'string') ?? null;
      if (!linked) await sleep(1000);
    }
    check(linked !== null, `the demo's intrusion alert links a snapshot (${linked?.details?.snapshot})`);
    const popups = await page.locator('[data-testid="intrusion-popup"]').count();
    if (popups > 0) {
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="popup-snapshot"]')].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 15000 }).catch(() => {});
      const w = await page.evaluate(() => Math.max(0, ...[...document.querySelectorAll('[data-testid="popup-snapshot"]')].map((i) => i.naturalWidth)));
      check(w > 0, `the intrusion pop-up shows the snapshot (naturalWidth ${w})`);
      await page.locator('[data-testid="popup-close"]').first().click();
    } else {
      console.log('info the intrusion came before the page was open: no pop-up to check');
    }
    await page.locator('tr[data-video="V01"]').click();
    await page.waitForSelector('[data-testid="camera-panel"]', { timeout: 10000 });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="panel-snapshot"]')].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 20000 }).catch(() => {});
    const w = await page.evaluate(() => Math.max(0, ...[...document.querySelectorAll('[data-testid="panel-snapshot"]')].map((i) => i.naturalWidth)));
    check(w > 0, `V01's camera panel shows the intrusion snapshot (naturalWidth ${w})`);
    // The panel reloads the network when it opens (the page's copy may predate DeviceInfo).
    await page.waitForFunction(() => document.querySelector('[data-testid="camera-panel"]')?.textContent?.includes('sim-1.0'), null, { timeout: 20000 }).catch(() => {});
    const panel = await page.locator('[data-testid="camera-panel"]').innerText();
    check(panel.includes('sim-1.0'), 'the camera panel shows the firmware the camera reported');
    // The demo has no media server: "Live video" says so plainly (the server's 503).
    await page.locator('[data-testid="camera-play"]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="play-result"]')?.textContent?.trim(), null, { timeout: 15000 }).catch(() => {});
    const played = await page.locator('[data-testid="play-result"]').innerText();
    check(played.includes('No media server is configured'), `"Live video" without a media server says so (${played.trim()})`);
    check((await page.locator('[data-testid="camera-stop"]').count()) === 0, 'no Stop button when nothing plays');
    await page.screenshot({ path: join(out, 'camera-panel-1366-en.png') });
    await page.locator('[data-testid="camera-close"]').click();
    check((await page.locator('[data-testid="camera-panel"]').count()) === 0, 'the camera panel closes');
  }

  // Log in with the account the CLI made and acknowledge an alert under that name.
  await page.locator('[data-testid="login"]').click();
  await page.locator('[data-testid="login-form"] input[name="name"]').fill('duty');
  await page.locator('[data-testid="login-form"] input[name="password"]').fill('duty-officer-1');
  await page.locator('[data-testid="login-form"] button[type="submit"]').click();
  await page.waitForSelector('[data-testid="who"]', { timeout: 10000 }).catch(() => {});
  const who = (await page.locator('[data-testid="who"]').innerText().catch(() => '')).trim();
  check(who.startsWith('值班员'), `logged in on the dashboard as the CLI's account (${who})`);
  await page.waitForSelector('button[data-act="ack"]', { timeout: 20000 }).catch(() => {});
  // The list redraws as alerts arrive (a button may be replaced between finding and clicking
  // it), so the click happens in the page, on the button found at that moment.
  const ackId = await page.evaluate(() => {
    const b = document.querySelector('button[data-act="ack"]');
    b?.click();
    return b?.dataset.id ?? null;
  });
  let ackedBy = null;
  for (let i = 0; i < 40 && ackId && !ackedBy; i++) {
    await sleep(250);
    const a = await (await fetch(`${base}/api/v1/alerts/${ackId}`)).json();
    ackedBy = a.acknowledged_by;
  }
  check(ackedBy === '值班员 (duty)', `an alert acknowledged on the dashboard names the person (${ackedBy})`);

  // Data review: log in as the reviewer, mark the first six hours of yesterday's TP at R01
  // invalid on the review page, and the day's assessment leaves those values out.
  await page.locator('[data-testid="logout"]').click();
  await page.waitForSelector('[data-testid="login"]', { timeout: 10000 });
  await page.locator('[data-testid="login"]').click();
  await page.locator('[data-testid="login-form"] input[name="name"]').fill('li');
  await page.locator('[data-testid="login-form"] input[name="password"]').fill('reviewer-pass-1');
  await page.locator('[data-testid="login-form"] button[type="submit"]').click();
  await page.waitForSelector('[data-testid="who"]', { timeout: 10000 }).catch(() => {});
  await page.goto(`${base}/#/review/R01`);
  await page.waitForFunction(() => (window.qingshuiReview?.points ?? 0) > 0, null, { timeout: 20000 }).catch(() => {});
  const reviewPoints = await page.evaluate(() => window.qingshuiReview?.points ?? 0);
  check(reviewPoints > 0, `the review page charts yesterday's values (${reviewPoints} points)`);
  await page.locator('[data-testid="review-form"] input[name="from"]').fill('00:00');
  await page.locator('[data-testid="review-form"] input[name="to"]').fill('05:59');
  await page.locator('[data-testid="review-form"] select[name="reason"]').selectOption('maintenance');
  await page.locator('[data-testid="review-invalid"]').click();
  await page.waitForFunction(() => (window.qingshuiReview?.reviews ?? 0) === 1, null, { timeout: 10000 }).catch(() => {});
  check((await page.evaluate(() => window.qingshuiReview?.reviews ?? 0)) === 1, 'the review is listed and shaded on the chart');
  const reviewedBy = (await page.locator('[data-testid="review-list"] tbody tr').first().innerText()).trim();
  check(reviewedBy.includes('李审核 (li)'), `the review names the reviewer (${reviewedBy})`);
  {
    const day = await page.locator('#review-day').inputValue();
    const from = encodeURIComponent(`${day}T00:00:00+08:00`);
    const next = new Date(Date.parse(`${day}T00:00:00+08:00`) + 86400000).toISOString();
    const a = await (await fetch(`${base}/api/v1/assessment?scope=station:R01&from=${from}&to=${encodeURIComponent(next)}`)).json();
    check((a.review?.invalidated ?? 0) >= 1, `the day's assessment leaves the reviewed values out (${JSON.stringify(a.review)})`);
  }
  await page.locator('[data-testid="review-approve"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="review-approval"]')?.textContent?.includes('李审核'), null, { timeout: 10000 }).catch(() => {});
  check((await page.locator('[data-testid="review-approval"]').innerText()).includes('李审核'), 'the day is approved under the reviewer\'s name');
  await page.screenshot({ path: join(out, 'review-1366-en.png') });

  // The admin reads the audit trail on the dashboard: the acknowledgement and the review are there.
  await page.locator('[data-testid="logout"]').click();
  await page.waitForSelector('[data-testid="login"]', { timeout: 10000 });
  await page.locator('[data-testid="login"]').click();
  await page.locator('[data-testid="login-form"] input[name="name"]').fill('boss');
  await page.locator('[data-testid="login-form"] input[name="password"]').fill('admin-pass-123');
  await page.locator('[data-testid="login-form"] button[type="submit"]').click();
  await page.waitForSelector('nav a[data-nav="audit"]', { timeout: 10000 }).catch(() => {});
  check((await page.locator('nav a[data-nav="audit"]').count()) === 1, 'an admin sees the audit trail in the navigation');
  await page.locator('nav a[data-nav="audit"]').click().catch(() => {});
  await page.waitForSelector('[data-testid="audit-list"] tbody tr', { timeout: 10000 }).catch(() => {});
  const audited = await page.locator('[data-testid="audit-list"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
  check(audited.includes('alert.ack') && audited.includes('review.mark') && audited.includes('session.login'), `the audit trail lists the acknowledgement, the review and the logins (${[...new Set(audited)].join(', ')})`);
  await page.screenshot({ path: join(out, 'audit-1366-en.png') });

  // ---- Wall screen ---------------------------------------------------------------------------
  const wall = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
  const wp = await wall.newPage();
  watch(wp, '1920');
  await wp.goto(`${base}/#/overview`);
  await wp.waitForFunction(() => window.qingshuiMap && window.qingshuiMap.stations === 18, null, { timeout: 30000 });
  await wp.waitForTimeout(1500);
  const overflow = await wp.evaluate(() => document.documentElement.scrollHeight - window.innerHeight);
  check(overflow <= 2, `wall screen overview fits 1920×1080 without scrolling (${overflow}px over)`);
  await wp.screenshot({ path: join(out, 'overview-1920-zh.png') });
  await wp.goto(`${base}/#/assessment`);
  await wp.waitForSelector('[data-testid="assessment-detail"]', { timeout: 60000 });
  await wp.screenshot({ path: join(out, 'assessment-1920-zh.png') });
  await wp.goto(`${base}/#/station/L06`);
  await wp.waitForFunction(() => window.qingshuiChart && window.qingshuiChart.points > 0, null, { timeout: 30000 });
  await wp.screenshot({ path: join(out, 'station-1920-zh.png') });
  // On the Chinese page every alert message reads in Chinese (rendered from its template).
  await wp.goto(`${base}/#/alerts`);
  await wp.waitForSelector('table.alerts td.msg', { timeout: 20000 }).catch(() => {});
  const msgs = await wp.locator('table.alerts td.msg').allInnerTexts();
  const notChinese = msgs.filter((m) => !/[\u4e00-\u9fff]/.test(m));
  check(msgs.length > 0 && notChinese.length === 0, `alert messages on the Chinese page are Chinese (${msgs.length} messages, not Chinese: ${JSON.stringify(notChinese.slice(0, 3))})`);
  await wp.screenshot({ path: join(out, 'alerts-1920-zh.png') });

  const laptopOverflow = await page.evaluate(async () => {
    location.hash = '#/overview';
    await new Promise((r) => setTimeout(r, 800));
    return document.documentElement.scrollHeight - window.innerHeight;
  });
  check(laptopOverflow <= 2, `laptop overview fits 1366×768 without scrolling (${laptopOverflow}px over)`);

  check(consoleErrors.length === 0, `no browser console errors${consoleErrors.length ? ':\n  ' + consoleErrors.join('\n  ') : ''}`);
} catch (e) {
  console.error(e);
  failures++;
} finally {
  await cleanup();
}
console.log(failures ? `e2e: ${failures} failure(s); screenshots in ${out}` : `e2e: all checks passed; screenshots in ${out}`);
process.exit(failures ? 1 : 0);
