// The inventory page in a real browser: Debian's chromium, driven by
// playwright-core, against a running warden whose API listener serves the
// page. Started by test_inventory_page.sh, which sets up the daemon, the
// certificates (fixture) and the identities; plain node, node:assert.
//
// It checks, as an admin: the table, counts, search (debounced, the stale
// request aborted), status filters, sort, keyset pages, the detail view
// (decoded fields, audit events, PEM download and copy), revocation through
// the confirmation step (badge updated in place), the expiry chart as a
// filter; that a CN carrying markup stays text; and that nothing breaks the
// CSP. As a reader: the table and detail, and no revoke control at all.
//
// Environment:
//   WARDEN_URL             https://127.0.0.1:PORT (the API listener)
//   WARDEN_ADMIN_CERT/KEY  the admin's client certificate and key (PEM files)
//   WARDEN_READER_CERT/KEY a reader's client certificate and key
//   WARDEN_FIXTURE         JSON written by the driver: {baseline: the
//                          stats counts before it issued anything (init's
//                          own certificates), issued: N, certs: {NAME:
//                          {serial, crt?, not_after?}}}
//   WARDEN_SCREENSHOT_DIR  where the PNG screenshots go
//   NODE_EXTRA_CA_CERTS    the CA's root (ca.crt): Playwright's client-
//                          certificate proxy verifies the server with it
//   WARDEN_CHROMIUM        the browser (default /usr/bin/chromium)
//
// The page's test hooks (data-testid), which this file relies on:
//   whoami, whoami-name, whoami-role          the caller, from GET /whoami
//   error-banner, error-message, error-dismiss  the API error banner
//   count-total|valid|expiring|expired|revoked  count buttons; data-value is
//                                             the number; click = filter
//   chart, chart-body                         the expiry chart
//   chart-bar                                 one per week; data-start,
//                                             data-end (unix), data-count,
//                                             aria-pressed when filtering
//   search, status-filter, sort               the toolbar inputs
//   range-filter, range-filter-text, clear-filter  the chart's filter chip
//   reset-filters, refresh, loading
//   cert-table                                data-state (loading|ready),
//                                             data-query (the query string of
//                                             the rows shown)
//   cert-rows; cert-row (data-serial, data-status); its cells cell-cn,
//     cell-sans, cell-serial, cell-requester, cell-issued, cell-expires
//     (a <time datetime>), cell-status
//   status-badge (data-status)                in a row and in the detail
//   empty, pager-info, prev-page, next-page
//   detail (data-serial, data-state, data-status), detail-title,
//     detail-badge, detail-close, detail-body
//   decoded; field-subject, field-issuer, field-serial, field-not-before,
//     field-not-after, field-sans, field-key, field-signature, field-profile,
//     field-requester, field-issued, field-version, field-fingerprint-sha256,
//     field-fingerprint-sha1, field-revoked-at, field-revocation-reason
//   extensions; extension (data-oid, data-critical)
//   audit-list; audit-event (data-action, data-outcome); audit-error;
//     audit-admins-only (a reader's detail: the log is for admins)
//   download-pem, copy-pem, copy-status (data-result copied|fallback),
//     pem-fallback
//   revoke-panel, revoke-reason, revoke-button, revoke-confirm-box,
//     revoke-confirm, revoke-cancel           admins only: never rendered
//                                             for anyone else
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
    const v = process.env[name] ?? fallback;
    if (v === undefined || v === '') {
        console.error(`inventory.test: ${name} is not set`);
        process.exit(2);
    }
    return v;
};

const URL_BASE = env('WARDEN_URL').replace(/\/+$/, '');
const ORIGIN = new URL(URL_BASE).origin;
const ADMIN = { certPath: env('WARDEN_ADMIN_CERT'), keyPath: env('WARDEN_ADMIN_KEY') };
const READER = { certPath: env('WARDEN_READER_CERT'), keyPath: env('WARDEN_READER_KEY') };
const FIXTURE = JSON.parse(fs.readFileSync(env('WARDEN_FIXTURE'), 'utf8'));
const SHOTS = env('WARDEN_SCREENSHOT_DIR');
const CHROMIUM = env('WARDEN_CHROMIUM', '/usr/bin/chromium');
const XSS_CN = '<img src=x onerror=alert(1)>';
const C = FIXTURE.certs;
const BASE = FIXTURE.baseline;

const tid = (id) => `[data-testid="${id}"]`;
const rowSel = (serial) => `${tid('cert-row')}[data-serial="${serial}"]`;

let passed = 0;
let failed = 0;

/* Run one named check; a failure is printed with its reason and ends the
 * flow it belongs to (later steps build on it), unless the check stands
 * alone ({alone: true}): then the flow goes on. */
async function step(name, fn, opts = {}) {
    try {
        await fn();
        passed++;
        console.log(`ok - ${name}`);
    } catch (e) {
        failed++;
        console.log(`not ok - ${name}`);
        for (const line of String(e && e.stack ? e.stack : e).split('\n').slice(0, 12)) {
            console.log(`#   ${line}`);
        }
        if (!opts.alone) {
            throw new FlowStop();
        }
    }
}

class FlowStop extends Error {}

/* Everything the browser may tell us that a healthy page never does. */
function watch(page) {
    const seen = { dialogs: [], pageErrors: [], consoleErrors: [] };
    page.on('dialog', (d) => {
        seen.dialogs.push(`${d.type()}: ${d.message()}`);
        d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => seen.pageErrors.push(e.message));
    page.on('console', (m) => {
        if (m.type() === 'error') {
            seen.consoleErrors.push(m.text());
        }
    });
    return seen;
}

async function newPage(browser, identity, extra = {}) {
    const context = await browser.newContext({
        // Playwright presents the client certificate through its own TLS
        // proxy, which verifies Warden's server certificate against
        // NODE_EXTRA_CA_CERTS (the CA's root): no ignoreHTTPSErrors.
        clientCertificates: [{ origin: ORIGIN, ...identity }],
        viewport: { width: 1440, height: 900 },
        acceptDownloads: true,
        ...extra,
    });
    // Collect CSP violations from the first script on: an inline style or
    // script anywhere in the page would show up here.
    await context.addInitScript(() => {
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => {
            window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
        });
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    return { context, page, seen: watch(page) };
}

/* Wait until the table shows the answer to a query with exactly these
 * parameters (null: absent) and return its rows. */
async function listed(page, want) {
    await page.waitForFunction((w) => {
        const t = document.querySelector('[data-testid="cert-table"]');
        if (!t || t.dataset.state !== 'ready' || t.dataset.query === undefined) {
            return false;
        }
        const q = new URLSearchParams(t.dataset.query);
        return Object.entries(w).every(([k, v]) => (v === null ? !q.has(k) : q.get(k) === String(v)));
    }, want);
    return rows(page);
}

function rows(page) {
    return page.$$eval('[data-testid="cert-row"]', (trs) => trs.map((tr) => {
        const text = (id) => tr.querySelector(`[data-testid="${id}"]`).textContent;
        return {
            serial: tr.dataset.serial,
            status: tr.dataset.status,
            cn: text('cell-cn'),
            sans: text('cell-sans'),
            badge: text('status-badge'),
            expiresRel: tr.querySelector('[data-testid="cell-expires"] .rel').textContent,
            notAfter: Date.parse(tr.querySelector('[data-testid="cell-expires"] time').getAttribute('datetime')),
            issuedAt: Date.parse(tr.querySelector('[data-testid="cell-issued"] time').getAttribute('datetime')),
        };
    }));
}

/* GET a JSON path from inside the page: same origin, same client cert. */
function apiGet(page, p) {
    return page.evaluate(async (u) => {
        const r = await fetch(u, { headers: { Accept: 'application/json' } });
        return { status: r.status, body: await r.json() };
    }, p);
}

async function counts(page) {
    await page.waitForFunction(() => document.querySelector('[data-testid="count-total"]').dataset.value);
    return page.$$eval('.count', (bs) => Object.fromEntries(bs.map((b) => [b.dataset.testid.slice(6), Number(b.dataset.value)])));
}

async function hygiene(page, seen, who) {
    const csp = await page.evaluate(() => window.__cspViolations);
    assert.deepEqual(csp, [], `${who}: CSP violations`);
    assert.deepEqual(seen.dialogs, [], `${who}: a dialog opened (alert/confirm/prompt)`);
    assert.deepEqual(seen.pageErrors, [], `${who}: uncaught page errors`);
    const refused = seen.consoleErrors.filter((m) => /Content Security Policy|Refused to/i.test(m));
    assert.deepEqual(refused, [], `${who}: the console reports refused content`);
    assert.equal(await page.locator('img').count(), 0, `${who}: an <img> element exists`);
}

async function shot(page, name) {
    const file = path.join(SHOTS, name);
    await page.screenshot({ path: file });
    console.log(`# screenshot: ${file}`);
    return file;
}

function pemBlocks(text) {
    return text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) || [];
}

const norm = (pem) => pem.replace(/\s+/g, '');

async function adminFlow(browser) {
    const { context, page, seen } = await newPage(browser, ADMIN);
    let total = 0;
    let firstPage = [];
    try {
        await step('admin: the page loads over mTLS and knows the caller is an admin', async () => {
            const resp = await page.goto(`${URL_BASE}/`);
            assert.equal(resp.status(), 200);
            await page.waitForSelector(tid('cert-row'));
            assert.equal(await page.textContent(tid('whoami-role')), 'admin');
            assert.equal(await page.title(), 'Warden · certificate inventory');
        });

        await step('admin: the newest certificates are listed, 100 to a page, with their statuses', async () => {
            firstPage = await listed(page, { q: null, status: null, sort: 'issued', cursor: null });
            assert.equal(firstPage.length, 100, 'the first page holds limit=100 rows');
            const bySerial = new Map(firstPage.map((r) => [r.serial, r]));
            const want = { web: 'valid', xss: 'valid', victim: 'valid', expiring: 'expiring', expired: 'expired', revoked: 'revoked', auditor: 'valid' };
            for (const [name, status] of Object.entries(want)) {
                const r = bySerial.get(C[name].serial);
                assert.ok(r, `${name} (${C[name].serial}) is on the first page`);
                assert.equal(r.status, status, `${name}'s status`);
            }
            assert.equal(bySerial.get(C.expiring.serial).badge, 'expiring soon');
            assert.equal(bySerial.get(C.revoked.serial).badge, 'revoked');
            assert.equal(bySerial.get(C.expired.serial).badge, 'expired');
            assert.match(bySerial.get(C.expiring.serial).expiresRel, /^in [23] days$/, 'a 72h certificate expires "in 3 days"');
            assert.match(bySerial.get(C.expired.serial).expiresRel, /ago$|^just now$/);
            assert.match(bySerial.get(C.web.serial).sans, /web-01\.svc\.internal/);
            for (let i = 1; i < firstPage.length; i++) {
                assert.ok(firstPage[i - 1].issuedAt >= firstPage[i].issuedAt, 'newest issued first');
            }
        });

        await step('admin: the counts match /api/v1/stats and the certificates issued', async () => {
            const c = await counts(page);
            const stats = await apiGet(page, '/api/v1/stats');
            assert.equal(stats.status, 200);
            for (const k of ['total', 'valid', 'expiring', 'expired', 'revoked']) {
                assert.equal(c[k], stats.body.counts[k], `count-${k}`);
            }
            assert.equal(c.total, BASE.total + FIXTURE.issued, 'total: init\'s and the ones issued');
            assert.equal(c.revoked, BASE.revoked + 1, 'revoked: one more');
            assert.equal(c.expired, BASE.expired + 1, 'expired: one more');
            assert.equal(c.expiring, BASE.expiring + 1, 'expiring: one more');
            assert.equal(c.total, c.valid + c.expired + c.revoked, 'total = valid + expired + revoked');
            assert.ok(c.total > 100 && c.total <= 200, `total ${c.total}: two pages`);
            total = c.total;
        });

        await step('admin: keyset pages: Next follows next_cursor, Previous goes back, nothing repeats', async () => {
            assert.equal(await page.isEnabled(tid('prev-page')), false);
            await page.click(tid('next-page'));
            await page.waitForFunction(() => new URLSearchParams(document.querySelector('[data-testid="cert-table"]').dataset.query).has('cursor'));
            const second = await rows(page);
            assert.equal(firstPage.length + second.length, total, 'both pages hold every certificate');
            const one = new Set(firstPage.map((r) => r.serial));
            assert.ok(second.every((r) => !one.has(r.serial)), 'no row on both pages');
            assert.equal(await page.isEnabled(tid('next-page')), false, 'no Next on the last page');
            assert.match(await page.textContent(tid('pager-info')), /^101–\d+ \(end\)$/);
            await page.click(tid('prev-page'));
            const back = await listed(page, { cursor: null, sort: 'issued' });
            assert.deepEqual(back.map((r) => r.serial), firstPage.map((r) => r.serial), 'Previous shows page one again');
        });

        await step('admin: a CN carrying markup is shown as text, nothing runs', async () => {
            const cell = page.locator(`${rowSel(C.xss.serial)} ${tid('cell-cn')}`);
            assert.equal(await cell.textContent(), XSS_CN);
            assert.equal(await cell.evaluate((td) => td.children.length), 0, 'the cell holds only text');
            assert.equal(await page.locator('img').count(), 0);
            assert.deepEqual(seen.dialogs, []);
        }, { alone: true });

        await step('admin: search narrows the table as you type, debounced', async () => {
            const searches = [];
            const onRequest = (r) => {
                const u = new URL(r.url());
                if (u.pathname === '/api/v1/certificates' && u.searchParams.has('q')) {
                    searches.push(u.searchParams.get('q'));
                }
            };
            page.on('request', onRequest);
            await page.click(tid('search'));
            await page.keyboard.type('web-0', { delay: 30 });
            const found = await listed(page, { q: 'web-0', cursor: null });
            page.off('request', onRequest);
            assert.ok(found.length >= 1 && found.length < 100, `${found.length} rows for "web-0"`);
            assert.ok(found.some((r) => r.serial === C.web.serial), 'web-01 is found');
            for (const r of found) {
                assert.ok(r.cn.includes('web-0') || r.sans.includes('web-0') || r.serial.includes('web-0'), `${r.serial} matches`);
            }
            assert.ok(searches.length <= 2, `typing 5 characters sent ${searches.length} searches: ${searches.join(', ')}`);
        });

        await step('admin: search by a serial fragment finds that certificate', async () => {
            const frag = C.xss.serial.slice(3, 15);
            await page.fill(tid('search'), frag);
            const found = await listed(page, { q: frag });
            assert.deepEqual(found.map((r) => r.serial), [C.xss.serial]);
        });

        await step('admin: a newer keystroke aborts the search still in flight', async () => {
            // hold the first search at the network so that it is in flight
            let held = 0;
            await page.route((u) => u.pathname === '/api/v1/certificates' && u.searchParams.get('q') === 'bulk-1', async (route) => {
                held++;
                await new Promise((r) => setTimeout(r, 2000));
                await route.continue().catch(() => {});
            });
            const aborted = [];
            const onFailed = (r) => {
                if (new URL(r.url()).searchParams.get('q') === 'bulk-1') {
                    aborted.push(r.failure() && r.failure().errorText);
                }
            };
            page.on('requestfailed', onFailed);
            await page.fill(tid('search'), 'bulk-1');
            await page.waitForFunction(() => document.querySelector('[data-testid="cert-table"]').dataset.state === 'loading');
            await page.keyboard.type('0');
            const found = await listed(page, { q: 'bulk-10' });
            await page.waitForTimeout(100);
            page.off('requestfailed', onFailed);
            await page.unrouteAll({ behavior: 'ignoreErrors' });
            assert.equal(held, 1, 'the first search was sent');
            assert.equal(aborted.length, 1, 'and aborted');
            assert.match(aborted[0] || '', /ABORTED|cancel/i);
            assert.ok(found.length >= 1 && found.every((r) => r.cn.includes('bulk-10')), 'the table shows bulk-10');
            await page.fill(tid('search'), '');
            await listed(page, { q: null });
        });

        await step('admin: clicking the revoked count filters the table to revoked certificates', async () => {
            await page.click(tid('count-revoked'));
            const found = await listed(page, { status: 'revoked', q: null });
            assert.ok(found.some((r) => r.serial === C.revoked.serial), 'the revoked certificate is listed');
            assert.ok(found.every((r) => r.status === 'revoked'), 'only revoked ones');
            assert.equal(found.length, BASE.revoked + 1);
            assert.equal(await page.inputValue(tid('status-filter')), 'revoked');
            assert.equal(await page.getAttribute(tid('count-revoked'), 'aria-pressed'), 'true');
        });

        await step('admin: the status select filters expiring soon and expired', async () => {
            await page.selectOption(tid('status-filter'), 'expiring');
            let found = await listed(page, { status: 'expiring' });
            assert.ok(found.some((r) => r.serial === C.expiring.serial), 'the 72h certificate is expiring soon');
            assert.ok(found.every((r) => r.status === 'expiring'), 'only expiring ones');
            assert.equal(found.length, BASE.expiring + 1);
            assert.equal(await page.getAttribute(tid('count-expiring'), 'aria-pressed'), 'true');
            await page.selectOption(tid('status-filter'), 'expired');
            found = await listed(page, { status: 'expired' });
            assert.ok(found.some((r) => r.serial === C.expired.serial), 'the 1s certificate is expired');
            assert.ok(found.every((r) => r.status === 'expired'), 'only expired ones');
            assert.equal(found.length, BASE.expired + 1);
            await page.click(tid('count-total'));
            await listed(page, { status: null });
        });

        await step('admin: sorting by expiry lists the soonest not_after first', async () => {
            await page.selectOption(tid('sort'), 'expires');
            const found = await listed(page, { sort: 'expires', status: null });
            for (let i = 1; i < found.length; i++) {
                assert.ok(found[i - 1].notAfter <= found[i].notAfter, `row ${i} is in expiry order`);
            }
            if (BASE.expired === 0) {
                assert.equal(found[0].serial, C.expired.serial, 'the expired certificate comes first');
            }
            await page.selectOption(tid('sort'), 'issued');
            await listed(page, { sort: 'issued' });
        });

        await step('admin: a row opens the detail view with the decoded certificate', async () => {
            await page.click(rowSel(C.web.serial));
            await page.waitForSelector(`${tid('detail')}[data-state="ready"][data-serial="${C.web.serial}"]`);
            assert.equal(new URL(page.url()).hash, `#cert/${C.web.serial}`);
            const f = async (k) => (await page.textContent(tid(`field-${k}`))).trim();
            assert.match(await f('subject'), /web-01\.svc\.internal/);
            assert.notEqual(await f('issuer'), '—');
            assert.equal(await f('serial'), C.web.serial);
            assert.match(await f('sans'), /web-01\.svc\.internal/);
            assert.match(await f('sans'), /10\.0\.0\.7/);
            assert.match(await f('key'), /EC/i);
            assert.match(await f('key'), /256/);
            assert.match(await f('signature'), /SHA-?256/i);
            assert.match(await f('not-after'), /UTC/);
            const x509 = new X509Certificate(fs.readFileSync(C.web.crt));
            assert.equal(await f('fingerprint-sha256'), x509.fingerprint256, 'the SHA-256 fingerprint is the certificate\'s');
            const exts = await page.$$eval(tid('extension'), (li) => li.map((e) => ({ oid: e.dataset.oid, critical: e.dataset.critical })));
            const ext = (oid) => exts.find((e) => e.oid === oid);
            assert.ok(exts.length >= 5, `${exts.length} extensions`);
            assert.equal(ext('2.5.29.19') && ext('2.5.29.19').critical, 'true', 'basicConstraints is critical');
            assert.equal(ext('2.5.29.15') && ext('2.5.29.15').critical, 'true', 'keyUsage is critical');
            assert.equal(ext('2.5.29.17') && ext('2.5.29.17').critical, 'false', 'subjectAltName is not critical');
            const events = await page.$$eval(tid('audit-event'), (tr) => tr.map((e) => e.dataset.action));
            assert.ok(events.includes('issue'), `audit events: ${events.join(', ')}`);
        });

        await step('admin: Download PEM saves <serial>.pem holding the chain, leaf first', async () => {
            const [download] = await Promise.all([page.waitForEvent('download'), page.click(tid('download-pem'))]);
            assert.equal(download.suggestedFilename(), `${C.web.serial}.pem`);
            const file = path.join(SHOTS, `${C.web.serial}.pem`);
            await download.saveAs(file);
            const blocks = pemBlocks(fs.readFileSync(file, 'utf8'));
            fs.unlinkSync(file);
            assert.ok(blocks.length >= 2, `${blocks.length} certificates in the download`);
            assert.equal(norm(blocks[0]), norm(fs.readFileSync(C.web.crt, 'utf8')), 'the leaf comes first');
        });

        await step('admin: Copy PEM puts the certificate on the clipboard (or offers it selected)', async () => {
            await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ORIGIN });
            await page.click(tid('copy-pem'));
            await page.waitForFunction(() => document.querySelector('[data-testid="copy-status"]').dataset.result);
            const result = await page.getAttribute(tid('copy-status'), 'data-result');
            const pem = result === 'copied'
                ? await page.evaluate(() => navigator.clipboard.readText())
                : await page.inputValue(`${tid('pem-fallback')} textarea`);
            assert.equal(norm(pem), norm(fs.readFileSync(C.web.crt, 'utf8')), `the PEM (${result})`);
        });

        await step('admin: the detail closes and the hash goes with it', async () => {
            await page.click(tid('detail-close'));
            assert.equal(await page.isHidden(tid('detail')), true);
            assert.equal(new URL(page.url()).hash, '');
        });

        await step('admin: revoke with keyCompromise through the confirmation; the badge changes in place', async () => {
            const row = await page.$(rowSel(C.victim.serial));
            await row.click();
            await page.waitForSelector(`${tid('detail')}[data-state="ready"][data-serial="${C.victim.serial}"]`);
            assert.equal(await page.isDisabled(tid('revoke-button')), true, 'no revoking before a reason is chosen');
            assert.equal(await page.isHidden(tid('revoke-confirm-box')), true);
            await page.selectOption(tid('revoke-reason'), 'keyCompromise');
            await page.click(tid('revoke-button'));
            assert.equal(await page.isVisible(tid('revoke-confirm-box')), true, 'a confirmation step');
            assert.match(await page.textContent(tid('revoke-confirm-box')), new RegExp(C.victim.serial));
            assert.equal(await page.textContent(tid('revoke-confirm')), `Confirm revoke of ${C.victim.serial}`);
            const [req, resp] = await Promise.all([
                page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith(`/certificates/${C.victim.serial}/revoke`)),
                page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/revoke')),
                page.click(tid('revoke-confirm')),
            ]);
            assert.match(req.headers()['content-type'] || '', /^application\/json/);
            assert.deepEqual(JSON.parse(req.postData()), { reason: 'keyCompromise' });
            assert.equal(resp.status(), 200, `revoke answered ${resp.status()}`);
            await page.waitForFunction((r) => r.isConnected && r.querySelector('[data-testid="status-badge"]').dataset.status === 'revoked', row);
            assert.equal(await row.evaluate((r) => r.querySelector('[data-testid="status-badge"]').textContent), 'revoked');
            await page.waitForSelector(`${tid('detail')}[data-state="ready"][data-status="revoked"]`);
            assert.equal(await page.getAttribute(`${tid('detail-badge')} ${tid('status-badge')}`, 'data-status'), 'revoked');
            assert.equal((await page.textContent(tid('field-revocation-reason'))).trim(), 'keyCompromise');
            assert.equal(await page.locator(tid('revoke-panel')).count(), 0, 'no revoke control on a revoked certificate');
            const events = await page.$$eval(tid('audit-event'), (tr) => tr.map((e) => e.dataset.action));
            assert.ok(events.includes('revoke'), `audit events: ${events.join(', ')}`);
            await page.waitForFunction((n) => document.querySelector('[data-testid="count-revoked"]').dataset.value === String(n), BASE.revoked + 2);
            const api = await apiGet(page, `/api/v1/certificates/${C.victim.serial}`);
            assert.equal(api.body.status, 'revoked');
            assert.equal(api.body.revocation.reason, 'keyCompromise');
            await page.click(tid('detail-close'));
        });

        await step('admin: a chart bar filters the table to the certificates expiring that week', async () => {
            const bars = await page.$$eval(tid('chart-bar'), (gs) => gs.map((g) => ({
                start: Number(g.dataset.start), end: Number(g.dataset.end), count: Number(g.dataset.count),
            })));
            assert.equal(bars.length, 13, '13 weekly bars');
            const due = Date.parse(C.expiring.not_after) / 1000;
            const i = bars.findIndex((b) => b.start < due && due <= b.end);
            assert.ok(i >= 0, 'a bar holds the 72h certificate');
            assert.ok(bars[i].count >= 1);
            const bar = page.locator(tid('chart-bar')).nth(i);
            assert.match(await bar.locator('title').textContent(), /certificates? expiring/);
            await bar.click();
            const found = await listed(page, {
                status: 'valid', sort: 'expires', expires_after: bars[i].start, expires_before: bars[i].end, q: null,
            });
            assert.ok(found.some((r) => r.serial === C.expiring.serial), 'the 72h certificate is listed');
            assert.equal(found.length, bars[i].count, 'as many rows as the bar counts');
            for (const r of found) {
                assert.ok(r.notAfter / 1000 > bars[i].start && r.notAfter / 1000 <= bars[i].end, `${r.serial} expires that week`);
                assert.ok(r.status === 'valid' || r.status === 'expiring');
            }
            assert.equal(await page.isVisible(tid('range-filter')), true, 'the filter is shown');
            assert.equal(await bar.getAttribute('aria-pressed'), 'true');
            assert.equal(await page.inputValue(tid('status-filter')), 'valid');
            assert.equal(await page.inputValue(tid('sort')), 'expires');
            await shot(page, 'inventory-chart-filter.png');
        });

        await step('admin: the chart filter clears', async () => {
            await page.click(tid('clear-filter'));
            await listed(page, { expires_after: null, expires_before: null });
            assert.equal(await page.isHidden(tid('range-filter')), true);
            await page.click(tid('reset-filters'));
            await listed(page, { status: null, sort: 'issued', q: null });
        });

        await step('admin: #cert/<serial> opens a detail directly; the markup CN stays text there too', async () => {
            await page.goto(`${URL_BASE}/#cert/${C.xss.serial}`);
            await page.waitForSelector(`${tid('detail')}[data-state="ready"][data-serial="${C.xss.serial}"]`);
            assert.equal(await page.textContent(tid('detail-title')), XSS_CN);
            // a DN string may escape < and > (RFC 4514); the CN itself may not
            assert.match(await page.textContent(tid('field-subject')), /img src=x onerror=alert\(1\)/);
            assert.match(await page.textContent(tid('field-sans')), /xss\.svc\.internal/);
            await page.waitForSelector(tid('cert-row'));
            assert.equal(await page.locator(`${rowSel(C.xss.serial)} ${tid('cell-cn')}`).textContent(), XSS_CN);
        }, { alone: true });

        await step('admin: a screenshot of the inventory with a detail open', async () => {
            await page.goto(`${URL_BASE}/#cert/${C.web.serial}`);
            await page.waitForSelector(`${tid('detail')}[data-state="ready"]`);
            await page.waitForSelector(tid('chart-bar'));
            await page.waitForFunction(() => document.querySelector('[data-testid="cert-table"]').dataset.state === 'ready');
            const file = await shot(page, 'inventory-admin.png');
            assert.ok(fs.statSync(file).size > 10000, 'a real image');
        });

        await step('admin: no CSP violation, no dialog, no page error, no <img> anywhere', async () => {
            await hygiene(page, seen, 'admin');
        });
    } catch (e) {
        if (!(e instanceof FlowStop)) {
            throw e;
        }
        await shot(page, 'inventory-admin-failure.png').catch(() => {});
        console.log(`# admin: seen ${JSON.stringify(seen)}`);
    } finally {
        await context.close();
    }
}

async function readerFlow(browser) {
    const { context, page, seen } = await newPage(browser, READER);
    const auditRequests = [];
    page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/v1/audit') {
            auditRequests.push(r.url());
        }
    });
    try {
        await step('reader: the page loads and lists certificates', async () => {
            const resp = await page.goto(`${URL_BASE}/`);
            assert.equal(resp.status(), 200);
            await page.waitForSelector(tid('cert-row'));
            assert.equal(await page.textContent(tid('whoami-role')), 'reader');
            const found = await listed(page, { status: null });
            assert.ok(found.some((r) => r.serial === C.web.serial));
            const c = await counts(page);
            const stats = await apiGet(page, '/api/v1/stats');
            for (const k of ['total', 'valid', 'expiring', 'expired', 'revoked']) {
                assert.equal(c[k], stats.body.counts[k], `count-${k}`);
            }
        });

        await step('reader: the detail view shows the certificate and no revoke control at all', async () => {
            await page.click(rowSel(C.web.serial));
            await page.waitForSelector(`${tid('detail')}[data-state="ready"][data-serial="${C.web.serial}"]`);
            assert.equal((await page.textContent(tid('field-serial'))).trim(), C.web.serial);
            assert.ok(await page.locator(tid('extension')).count() >= 5);
            for (const id of ['revoke-panel', 'revoke-reason', 'revoke-button', 'revoke-confirm-box', 'revoke-confirm']) {
                assert.equal(await page.locator(tid(id)).count(), 0, `${id} is not in the DOM`);
            }
            assert.equal(await page.locator(`${tid('detail')} button, ${tid('detail')} select`).filter({ hasText: /revoke/i }).count(), 0,
                'no button or select about revoking in the detail');
            assert.equal(await page.locator('select').count(), 2, 'only the toolbar\'s selects exist');
        });

        await step('reader: the detail view does not ask for the admins-only audit log', async () => {
            // GET /audit is for admins (openapi.yaml); a reader's request
            // would be refused, and the refusal itself audited
            assert.deepEqual(auditRequests, [], 'no /api/v1/audit request');
            assert.equal(await page.locator(tid('audit-admins-only')).count(), 1);
            assert.equal(await page.locator(tid('audit-error')).count(), 0);
        });

        await step('reader: the API itself refuses a revocation from the reader', async () => {
            const r = await page.evaluate(async (serial) => {
                const resp = await fetch(`/api/v1/certificates/${serial}/revoke`, {
                    method: 'POST',
                    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
                    body: JSON.stringify({ reason: 'keyCompromise' }),
                });
                return { status: resp.status, body: await resp.json() };
            }, C.web.serial);
            assert.equal(r.status, 403);
            assert.equal(r.body.error.code, 'forbidden');
            const after = await apiGet(page, `/api/v1/certificates/${C.web.serial}`);
            assert.equal(after.body.status, 'valid');
            await shot(page, 'inventory-reader.png');
        });

        await step('reader: no CSP violation, no dialog, no page error', async () => {
            await hygiene(page, seen, 'reader');
        });
    } catch (e) {
        if (!(e instanceof FlowStop)) {
            throw e;
        }
        await shot(page, 'inventory-reader-failure.png').catch(() => {});
        console.log(`# reader: seen ${JSON.stringify(seen)}`);
    } finally {
        await context.close();
    }
}

async function main() {
    fs.mkdirSync(SHOTS, { recursive: true });
    if (!process.env.NODE_EXTRA_CA_CERTS) {
        console.log('# NODE_EXTRA_CA_CERTS is not set: the server certificate will not verify');
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    console.log(`# ${CHROMIUM} ${browser.version()}, ${URL_BASE}`);
    try {
        await adminFlow(browser);
        await readerFlow(browser);
    } finally {
        await browser.close();
    }
    console.log(`# browser: ${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
    console.log(`not ok - the browser test crashed: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
});
