/*
 * Warden's inventory page: reads the JSON API of its own origin (whoami,
 * stats, certificates, audit) and renders the counts, the weekly expiry
 * chart, the certificate table with search, filters and keyset pages, and
 * a detail panel with PEM download and, for admins, revocation.
 *
 * Everything the API returns is untrusted text: it reaches the DOM only
 * through textContent, createTextNode and setAttribute, never as HTML.
 * The page runs under a strict CSP, so there is no inline script or style
 * and no eval; SVG is built with createElementNS.
 */
'use strict';

(() => {
    const API = '/api/v1';
    const PAGE_SIZE = 100;
    const SEARCH_DEBOUNCE_MS = 250;
    const SVG_NS = 'http://www.w3.org/2000/svg';
    const SERIAL_RE = /^[0-9a-f]{1,40}$/;
    const HASH_PREFIX = '#cert/';
    /* RFC 5280 5.3.1 reason names the API accepts (certificateHold,
     * removeFromCRL and aACompromise are refused). */
    const REASONS = [
        ['keyCompromise', 'key compromise'],
        ['superseded', 'superseded'],
        ['cessationOfOperation', 'cessation of operation'],
        ['affiliationChanged', 'affiliation changed'],
        ['privilegeWithdrawn', 'privilege withdrawn'],
        ['cACompromise', 'CA compromise'],
        ['unspecified', 'unspecified'],
    ];
    const STATUS_LABEL = {
        valid: 'valid',
        expiring: 'expiring soon',
        expired: 'expired',
        revoked: 'revoked',
    };

    const state = {
        me: null, /* GET /whoami; null until known (no admin controls) */
        skewMs: 0, /* server clock minus ours, from stats.now */
        filter: {
            q: '',
            status: '',
            sort: 'issued',
            after: null, /* unix seconds, exclusive */
            before: null, /* unix seconds, inclusive */
            rangeLabel: '',
        },
        pages: [null], /* the cursor of each page visited; last = shown */
        next: null, /* next_cursor of the page shown */
        items: new Map(), /* serial -> cert of the page shown */
        weeks: [],
        listCtl: null,
        detailCtl: null,
        detailSerial: null,
        searchTimer: 0,
    };

    /* ---- small DOM helpers: text only, never HTML ---- */

    const byId = (id) => document.querySelector(`[data-testid="${id}"]`);

    function setAttrs(node, attrs) {
        for (const [k, v] of Object.entries(attrs || {})) {
            if (v === null || v === undefined || v === false) {
                continue;
            }
            node.setAttribute(k, v === true ? '' : String(v));
        }
        return node;
    }

    function append(node, children) {
        for (const c of children) {
            if (c === null || c === undefined || c === false) {
                continue;
            }
            node.append(c instanceof Node ? c : document.createTextNode(String(c)));
        }
        return node;
    }

    function el(tag, attrs, ...children) {
        return append(setAttrs(document.createElement(tag), attrs), children);
    }

    function svg(tag, attrs, ...children) {
        return append(setAttrs(document.createElementNS(SVG_NS, tag), attrs), children);
    }

    /* ---- API ---- */

    class ApiError extends Error {
        constructor(status, code, message) {
            super(message);
            this.name = 'ApiError';
            this.status = status;
            this.code = code;
        }
    }

    /*
     * fetch a path below /api/v1. JSON answers are parsed; other Accept
     * types return the Response. A non-2xx throws ApiError with the API's
     * error.code and error.message; an abort rethrows the AbortError.
     */
    async function api(path, opts = {}) {
        const accept = opts.accept || 'application/json';
        const headers = { Accept: accept };
        const init = {
            method: opts.method || 'GET',
            headers,
            signal: opts.signal,
            credentials: 'same-origin',
            cache: 'no-store',
        };
        if (opts.json !== undefined) {
            headers['Content-Type'] = 'application/json';
            init.body = JSON.stringify(opts.json);
        }
        let resp;
        try {
            resp = await fetch(API + path, init);
        } catch (e) {
            if (e.name === 'AbortError') {
                throw e;
            }
            throw new ApiError(0, 'network', `Warden did not answer (${e.message}).`);
        }
        if (!resp.ok) {
            let code = `http_${resp.status}`;
            let message = `${resp.status} ${resp.statusText}`.trim();
            try {
                const body = await resp.json();
                if (body && body.error) {
                    code = String(body.error.code || code);
                    message = String(body.error.message || message);
                }
            } catch {
                /* not JSON: keep the status line */
            }
            throw new ApiError(resp.status, code, message);
        }
        return accept === 'application/json' ? resp.json() : resp;
    }

    /* ---- the error banner: visible, never blocking ---- */

    function showError(err, what, source) {
        if (err && err.name === 'AbortError') {
            return;
        }
        const banner = byId('error-banner');
        const msg = byId('error-message');
        msg.replaceChildren(
            el('strong', null, `${what}: `),
            err && err.message ? err.message : String(err),
            err && err.code ? el('span', { class: 'banner-code' }, err.code) : null,
        );
        banner.dataset.source = source || '';
        banner.dataset.code = (err && err.code) || '';
        banner.hidden = false;
    }

    function clearError(source) {
        const banner = byId('error-banner');
        if (!banner.hidden && banner.dataset.source === source) {
            banner.hidden = true;
        }
    }

    /* ---- time: absolute in UTC, relative to the server's clock ---- */

    const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
    const dayFmt = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });

    const now = () => Date.now() + state.skewMs;

    function utc(iso, seconds) {
        const t = Date.parse(iso);
        if (Number.isNaN(t)) {
            return iso ? String(iso) : '—';
        }
        const s = new Date(t).toISOString();
        return seconds ? `${s.slice(0, 10)} ${s.slice(11, 19)} UTC` : `${s.slice(0, 10)} ${s.slice(11, 16)}`;
    }

    function relative(iso) {
        const t = Date.parse(iso);
        if (Number.isNaN(t)) {
            return '';
        }
        const diff = (t - now()) / 1000;
        const a = Math.abs(diff);
        if (a < 60) {
            return diff >= 0 ? 'in under a minute' : 'just now';
        }
        if (a < 3600) {
            return rtf.format(Math.round(diff / 60), 'minute');
        }
        if (a < 48 * 3600) {
            return rtf.format(Math.round(diff / 3600), 'hour');
        }
        if (a < 180 * 86400) {
            return rtf.format(Math.round(diff / 86400), 'day');
        }
        if (a < 730 * 86400) {
            return rtf.format(Math.round(diff / (30.44 * 86400)), 'month');
        }
        return rtf.format(Math.round(diff / (365.25 * 86400)), 'year');
    }

    /* A table date: the day, how far from now, the full time on hover. */
    function timeCell(iso, col) {
        const day = utc(iso, false).slice(0, 10);
        return el('td', { class: `col-date col-${col}`, 'data-testid': `cell-${col}`, title: utc(iso, true) },
            el('time', { datetime: iso }, day),
            el('span', { class: 'rel' }, relative(iso)));
    }

    /* ---- shared bits ---- */

    function badge(status, revocation) {
        const label = STATUS_LABEL[status] || String(status || 'unknown');
        const b = el('span', {
            class: `badge badge-${STATUS_LABEL[status] ? status : 'unknown'}`,
            'data-testid': 'status-badge',
            'data-status': status,
        }, label);
        if (status === 'revoked' && revocation) {
            b.title = `revoked ${utc(revocation.revoked_at, true)}` +
                (revocation.reason ? ` (${revocation.reason})` : '');
        }
        return b;
    }

    /* "DNS:a.example" -> a chip with a quiet type prefix */
    function sanChip(san) {
        const s = String(san);
        const i = s.indexOf(':');
        const type = i > 0 && i < 8 ? s.slice(0, i) : '';
        const value = type ? s.slice(i + 1) : s;
        return el('span', { class: 'san', title: s },
            type ? el('span', { class: 'san-type' }, type) : null, value);
    }

    function cnOf(cert) {
        return cert.cn !== null && cert.cn !== undefined && cert.cn !== '' ? String(cert.cn) : null;
    }

    function fingerprint(hex) {
        return String(hex || '').toUpperCase().replace(/(..)(?!$)/g, '$1:');
    }

    const isAdmin = () => Boolean(state.me && state.me.role === 'admin');

    /* ---- whoami ---- */

    async function loadWhoami() {
        try {
            state.me = await api('/whoami');
            const box = byId('whoami');
            box.replaceChildren(
                el('span', { class: 'whoami-name', 'data-testid': 'whoami-name' }, state.me.name || '(unnamed)'),
                el('span', { class: `role role-${/^[a-z]+$/.test(state.me.role) ? state.me.role : 'other'}`, 'data-testid': 'whoami-role' },
                    state.me.role ? String(state.me.role) : '?'));
        } catch (e) {
            state.me = null;
            showError(e, 'Who am I', 'whoami');
        }
    }

    /* ---- counts and chart ---- */

    async function loadStats() {
        try {
            const s = await api('/stats');
            const serverNow = Date.parse(s.now);
            if (!Number.isNaN(serverNow)) {
                state.skewMs = serverNow - Date.now();
            }
            renderCounts(s.counts || {});
            state.weeks = Array.isArray(s.expiring_weeks) ? s.expiring_weeks : [];
            renderChart();
            clearError('stats');
        } catch (e) {
            showError(e, 'Loading counts', 'stats');
        }
    }

    function renderCounts(counts) {
        for (const key of ['total', 'valid', 'expiring', 'expired', 'revoked']) {
            const btn = byId(`count-${key}`);
            const n = typeof counts[key] === 'number' ? counts[key] : NaN;
            const shown = Number.isFinite(n) ? n.toLocaleString('en') : '–';
            btn.querySelector('.count-value').textContent = shown;
            btn.dataset.value = Number.isFinite(n) ? String(n) : '';
        }
        syncControls();
    }

    function chartWidth() {
        const body = byId('chart-body');
        return Math.max(320, Math.floor(body.clientWidth || 640));
    }

    function renderChart() {
        const body = byId('chart-body');
        const weeks = state.weeks;
        if (weeks.length === 0) {
            body.replaceChildren(el('p', { class: 'chart-empty' }, 'No expiry data.'));
            return;
        }
        const W = chartWidth();
        const H = 132;
        const top = 16;
        const bottom = 22;
        const plotH = H - top - bottom;
        const slot = W / weeks.length;
        const barW = Math.max(6, Math.min(44, slot * 0.62));
        const max = Math.max(1, ...weeks.map((w) => Number(w.count) || 0));

        const root = svg('svg', {
            class: 'chart-svg',
            width: W,
            height: H,
            viewBox: `0 0 ${W} ${H}`,
            role: 'group',
            'aria-label': 'Certificates expiring per week, next 13 weeks',
        });
        root.append(svg('line', { class: 'chart-axis', x1: 0, x2: W, y1: top + plotH + 0.5, y2: top + plotH + 0.5 }));

        weeks.forEach((w, i) => {
            const count = Number(w.count) || 0;
            const x = i * slot;
            const h = count === 0 ? 0 : Math.max(3, Math.round((count / max) * plotH));
            const label = `${dayFmt.format(Date.parse(w.start))} – ${dayFmt.format(Date.parse(w.end))}`;
            const selected = state.filter.after === Number(w.start_unix) &&
                state.filter.before === Number(w.end_unix);
            const tip = `${count} certificate${count === 1 ? '' : 's'} expiring ${label}`;
            const g = svg('g', {
                class: `chart-bar${count === 0 ? ' is-empty' : ''}${selected ? ' is-selected' : ''}`,
                'data-testid': 'chart-bar',
                'data-index': i,
                'data-start': w.start_unix,
                'data-end': w.end_unix,
                'data-count': count,
                role: 'button',
                tabindex: 0,
                'aria-pressed': selected ? 'true' : 'false',
                'aria-label': tip,
            });
            append(g, [
                svg('title', null, tip),
                svg('rect', { class: 'chart-hit', x, y: 0, width: slot, height: H }),
                svg('rect', {
                    class: 'chart-fill',
                    x: x + (slot - barW) / 2,
                    y: top + plotH - Math.max(h, 1),
                    width: barW,
                    height: Math.max(h, 1),
                    rx: 2,
                }),
                svg('text', { class: 'chart-count', x: x + slot / 2, y: top + plotH - h - 4, 'text-anchor': 'middle' },
                    count === 0 ? '' : String(count)),
                /* on a narrow chart, every other week keeps its label */
                slot >= 44 || i % 2 === 0
                    ? svg('text', { class: 'chart-label', x: x + slot / 2, y: H - 6, 'text-anchor': 'middle' },
                        dayFmt.format(Date.parse(w.start)))
                    : null,
            ]);
            g.addEventListener('click', () => filterWeek(w, label));
            g.addEventListener('keydown', (ev) => {
                if (ev.key === 'Enter' || ev.key === ' ') {
                    ev.preventDefault();
                    filterWeek(w, label);
                }
            });
            root.append(g);
        });
        body.replaceChildren(root);
    }

    function filterWeek(w, label) {
        const f = state.filter;
        f.status = 'valid';
        f.sort = 'expires';
        f.after = Number(w.start_unix);
        f.before = Number(w.end_unix);
        f.rangeLabel = `expiring ${label}`;
        reload();
    }

    /* ---- the table ---- */

    function listParams() {
        const f = state.filter;
        const p = new URLSearchParams();
        if (f.q) {
            p.set('q', f.q);
        }
        if (f.status) {
            p.set('status', f.status);
        }
        if (f.after !== null) {
            p.set('expires_after', String(f.after));
        }
        if (f.before !== null) {
            p.set('expires_before', String(f.before));
        }
        p.set('sort', f.sort);
        p.set('limit', String(PAGE_SIZE));
        const cursor = state.pages[state.pages.length - 1];
        if (cursor) {
            p.set('cursor', cursor);
        }
        return p;
    }

    async function loadList() {
        if (state.listCtl) {
            state.listCtl.abort();
        }
        const ctl = new AbortController();
        state.listCtl = ctl;
        const params = listParams();
        const table = byId('cert-table');
        table.dataset.state = 'loading';
        table.setAttribute('aria-busy', 'true');
        byId('loading').hidden = false;
        try {
            const data = await api(`/certificates?${params}`, { signal: ctl.signal });
            if (state.listCtl !== ctl) {
                return;
            }
            state.next = data.next_cursor || null;
            renderRows(Array.isArray(data.items) ? data.items : []);
            table.dataset.query = params.toString();
            clearError('list');
        } catch (e) {
            if (e.name === 'AbortError') {
                return;
            }
            if (e.code === 'invalid_cursor' && state.pages.length > 1) {
                state.pages = [null]; /* the data moved under us: start over */
            }
            showError(e, 'Loading certificates', 'list');
        } finally {
            if (state.listCtl === ctl) {
                state.listCtl = null;
                table.dataset.state = 'ready';
                table.removeAttribute('aria-busy');
                byId('loading').hidden = true;
                renderPager();
            }
        }
    }

    function certRow(c) {
        const cn = cnOf(c);
        const sans = Array.isArray(c.sans) ? c.sans : [];
        const sansCell = el('td', { class: 'col-sans', 'data-testid': 'cell-sans' });
        sans.slice(0, 2).forEach((s) => sansCell.append(sanChip(s)));
        if (sans.length > 2) {
            sansCell.append(el('span', { class: 'more', title: sans.slice(2).join('\n') }, `+${sans.length - 2}`));
        }
        const tr = el('tr', {
            class: `row row-${c.status}${c.serial === state.detailSerial ? ' is-selected' : ''}`,
            'data-testid': 'cert-row',
            'data-serial': c.serial,
            'data-status': c.status,
            tabindex: 0,
        },
        el('td', { class: 'col-cn', 'data-testid': 'cell-cn', title: String(c.subject || '') },
            cn !== null ? cn : el('span', { class: 'muted' }, c.subject ? String(c.subject) : '—')),
        sansCell,
        el('td', { class: 'col-serial mono', 'data-testid': 'cell-serial', title: String(c.serial) }, String(c.serial)),
        el('td', { class: 'col-requester', 'data-testid': 'cell-requester' }, c.requester ? String(c.requester) : '—'),
        timeCell(c.issued_at, 'issued'),
        timeCell(c.not_after, 'expires'),
        el('td', { class: 'col-status', 'data-testid': 'cell-status' }, badge(c.status, c.revocation)));
        return tr;
    }

    function renderRows(items) {
        state.items = new Map(items.map((c) => [String(c.serial), c]));
        const tbody = byId('cert-rows');
        tbody.replaceChildren(...items.map(certRow));
        byId('empty').hidden = items.length > 0;
        syncControls();
    }

    function renderPager() {
        const page = state.pages.length;
        const n = state.items.size;
        const first = (page - 1) * PAGE_SIZE + 1;
        byId('pager-info').textContent = n === 0 ? '' :
            `${first.toLocaleString('en')}–${(first + n - 1).toLocaleString('en')}${state.next ? '' : ' (end)'}`;
        byId('prev-page').disabled = page <= 1;
        byId('next-page').disabled = !state.next;
    }

    /* Put the inputs, count buttons, chip and chart selection in line with
     * state.filter (which a count, a bar or a select may have changed). */
    function syncControls() {
        const f = state.filter;
        const search = byId('search');
        if (document.activeElement !== search && search.value.trim() !== f.q) {
            search.value = f.q;
        }
        byId('status-filter').value = f.status;
        byId('sort').value = f.sort;
        for (const btn of document.querySelectorAll('.count')) {
            const active = btn.dataset.status === f.status && f.after === null;
            btn.setAttribute('aria-pressed', active ? 'true' : 'false');
        }
        const chip = byId('range-filter');
        chip.hidden = f.after === null && f.before === null;
        byId('range-filter-text').textContent = f.rangeLabel;
        byId('reset-filters').hidden = !(f.q || f.status || f.sort !== 'issued' || f.after !== null);
        for (const g of document.querySelectorAll('[data-testid="chart-bar"]')) {
            const sel = f.after === Number(g.dataset.start) && f.before === Number(g.dataset.end);
            g.classList.toggle('is-selected', sel);
            g.setAttribute('aria-pressed', sel ? 'true' : 'false');
        }
        for (const tr of document.querySelectorAll('[data-testid="cert-row"]')) {
            tr.classList.toggle('is-selected', tr.dataset.serial === state.detailSerial);
        }
    }

    /* A filter changed: back to the first page. */
    function reload() {
        state.pages = [null];
        state.next = null;
        syncControls();
        loadList();
    }

    /* ---- the detail panel ---- */

    function serialFromHash() {
        if (!location.hash.startsWith(HASH_PREFIX)) {
            return null;
        }
        const s = decodeURIComponent(location.hash.slice(HASH_PREFIX.length)).toLowerCase();
        return SERIAL_RE.test(s) ? s : null;
    }

    function openDetail(serial) {
        if (serialFromHash() === serial) {
            route();
        } else {
            location.hash = HASH_PREFIX + serial;
        }
    }

    function closeDetail() {
        if (state.detailCtl) {
            state.detailCtl.abort();
        }
        state.detailSerial = null;
        byId('detail').hidden = true;
        document.body.classList.remove('with-detail');
        if (location.hash) {
            history.replaceState(null, '', location.pathname + location.search);
        }
        syncControls();
    }

    function route() {
        const serial = serialFromHash();
        if (serial) {
            showDetail(serial);
        } else if (state.detailSerial) {
            closeDetail();
        }
    }

    function section(title, testid, ...children) {
        return el('section', { class: 'detail-section', 'data-testid': testid },
            el('h3', null, title), ...children);
    }

    function field(dl, label, key, value, opts = {}) {
        const dd = el('dd', { 'data-testid': `field-${key}`, class: opts.cls || (opts.mono ? 'mono' : null) });
        if (value instanceof Node) {
            dd.append(value);
        } else {
            dd.textContent = value === null || value === undefined || value === '' ? '—' : String(value);
        }
        dl.append(el('dt', null, label), dd);
    }

    function keyText(key) {
        if (!key) {
            return '—';
        }
        const parts = [String(key.algorithm || '?')];
        if (key.bits) {
            parts.push(`${key.bits} bit`);
        }
        if (key.curve) {
            parts.push(String(key.curve));
        }
        return parts.join(' · ');
    }

    async function showDetail(serial) {
        if (state.detailCtl) {
            state.detailCtl.abort();
        }
        const ctl = new AbortController();
        state.detailCtl = ctl;
        state.detailSerial = serial;
        const panel = byId('detail');
        panel.hidden = false;
        panel.dataset.serial = serial;
        panel.dataset.state = 'loading';
        document.body.classList.add('with-detail');
        syncControls();
        const known = state.items.get(serial);
        byId('detail-title').textContent = known && cnOf(known) !== null ? cnOf(known) : serial;
        byId('detail-badge').replaceChildren(known ? badge(known.status, known.revocation) : '');
        byId('detail-body').replaceChildren(el('p', { class: 'muted' }, 'loading…'));

        /* the audit log is for admins (openapi.yaml): a reader's request
         * would only be refused, and every refusal is itself audited */
        const auditP = isAdmin()
            ? api(`/audit?serial=${encodeURIComponent(serial)}&limit=50`, { signal: ctl.signal }).catch((e) => e)
            : Promise.resolve(null);
        let cert;
        try {
            cert = await api(`/certificates/${encodeURIComponent(serial)}`, { signal: ctl.signal });
        } catch (e) {
            if (e.name === 'AbortError') {
                return;
            }
            if (state.detailCtl === ctl) {
                byId('detail-body').replaceChildren(el('p', { class: 'muted' }, 'Could not load this certificate.'));
                panel.dataset.state = 'error';
            }
            showError(e, `Certificate ${serial}`, 'detail');
            return;
        }
        const audit = await auditP;
        if (state.detailCtl !== ctl) {
            return;
        }
        state.detailCtl = null;
        renderDetail(cert, audit);
        panel.dataset.state = 'ready';
        panel.dataset.status = cert.status;
        clearError('detail');
    }

    function renderDetail(cert, audit) {
        const d = cert.decoded || {};
        const serial = String(cert.serial);
        const cn = cnOf(cert);
        byId('detail-title').textContent = cn !== null ? cn : String(cert.subject || serial);
        byId('detail-badge').replaceChildren(badge(cert.status, cert.revocation));

        const body = byId('detail-body');
        const parts = [];

        /* actions */
        const copyStatus = el('span', { class: 'copy-status', 'data-testid': 'copy-status', 'aria-live': 'polite' });
        const pemBox = el('div', { class: 'pem-fallback', 'data-testid': 'pem-fallback', hidden: true });
        const dl = el('button', { type: 'button', class: 'btn', 'data-testid': 'download-pem' }, 'Download PEM');
        dl.addEventListener('click', () => downloadPem(serial, dl));
        const cp = el('button', { type: 'button', class: 'btn', 'data-testid': 'copy-pem' }, 'Copy PEM');
        cp.addEventListener('click', () => copyPem(String(cert.certificate || ''), copyStatus, pemBox));
        parts.push(el('div', { class: 'detail-actions' }, dl, cp, copyStatus), pemBox);

        /* the decoded certificate */
        const info = el('dl', { class: 'kv', 'data-testid': 'decoded' });
        field(info, 'Subject', 'subject', d.subject || cert.subject);
        field(info, 'Issuer', 'issuer', d.issuer);
        field(info, 'Serial', 'serial', d.serial || serial, { mono: true });
        const validity = (iso) => el('span', null, utc(iso, true), el('span', { class: 'rel' }, relative(iso)));
        field(info, 'Not before', 'not-before', validity(d.not_before || cert.not_before));
        field(info, 'Not after', 'not-after', validity(d.not_after || cert.not_after));
        const sans = Array.isArray(d.sans) ? d.sans : (Array.isArray(cert.sans) ? cert.sans : []);
        const sanList = el('span', { class: 'san-list' });
        sans.forEach((s) => sanList.append(sanChip(s)));
        field(info, 'SANs', 'sans', sans.length ? sanList : '—');
        field(info, 'Key', 'key', keyText(d.key) !== '—' ? keyText(d.key) : cert.key_type);
        field(info, 'Signature', 'signature', d.signature_algorithm);
        field(info, 'Profile', 'profile', cert.profile);
        field(info, 'Requester', 'requester', cert.requester);
        field(info, 'Issued', 'issued', utc(cert.issued_at, true));
        field(info, 'Version', 'version', d.version ? `v${d.version}` : null);
        field(info, 'SHA-256', 'fingerprint-sha256', fingerprint(d.fingerprint_sha256 || cert.fingerprint_sha256), { cls: 'mono fp' });
        if (d.fingerprint_sha1) {
            field(info, 'SHA-1', 'fingerprint-sha1', fingerprint(d.fingerprint_sha1), { cls: 'mono fp' });
        }
        parts.push(section('Certificate', 'detail-certificate', info));

        if (cert.revocation) {
            const rv = el('dl', { class: 'kv' });
            field(rv, 'Revoked', 'revoked-at', utc(cert.revocation.revoked_at, true));
            field(rv, 'Reason', 'revocation-reason', cert.revocation.reason);
            parts.push(section('Revocation', 'detail-revocation', rv));
        }

        const exts = Array.isArray(d.extensions) ? d.extensions : [];
        const extList = el('ul', { class: 'ext-list', 'data-testid': 'extensions' });
        for (const x of exts) {
            extList.append(el('li', {
                class: 'ext',
                'data-testid': 'extension',
                'data-oid': x.oid,
                'data-critical': x.critical ? 'true' : 'false',
            },
            el('div', { class: 'ext-head' },
                el('span', { class: 'ext-name' }, x.name ? String(x.name) : String(x.oid)),
                el('span', { class: 'ext-oid mono' }, String(x.oid || '')),
                x.critical ? el('span', { class: 'tag tag-critical' }, 'critical') : null),
            el('div', { class: 'ext-value mono' }, x.value === null || x.value === undefined ? '' : String(x.value))));
        }
        parts.push(section(`Extensions (${exts.length})`, 'detail-extensions',
            exts.length ? extList : el('p', { class: 'muted' }, 'None decoded.')));

        parts.push(section('Audit events', 'detail-audit', auditView(audit)));

        if (isAdmin() && cert.status !== 'revoked') {
            parts.push(revokeView(cert));
        }
        body.replaceChildren(...parts);
    }

    function auditView(audit) {
        if (audit === null) {
            return el('p', { class: 'muted', 'data-testid': 'audit-admins-only' }, 'The audit log is shown to admins only.');
        }
        if (audit instanceof Error) {
            return el('p', { class: 'muted', 'data-testid': 'audit-error' },
                `Audit events unavailable: ${audit.message}`);
        }
        const items = audit && Array.isArray(audit.items) ? audit.items : [];
        if (items.length === 0) {
            return el('p', { class: 'muted', 'data-testid': 'audit-list' }, 'No events.');
        }
        const rows = items.map((ev) => el('tr', {
            'data-testid': 'audit-event',
            'data-action': ev.action,
            'data-outcome': ev.outcome,
        },
        el('td', { class: 'nowrap', title: utc(ev.at, true) }, utc(ev.at, false)),
        el('td', null, ev.action ? String(ev.action) : '—'),
        el('td', null, ev.actor ? String(ev.actor) : '—'),
        el('td', null, el('span', { class: `outcome outcome-${/^[a-z_]+$/.test(ev.outcome) ? ev.outcome : 'other'}` },
            ev.outcome ? String(ev.outcome) : '—')),
        el('td', { class: 'audit-detail' }, ev.detail ? String(ev.detail) : '')));
        return el('table', { class: 'audit', 'data-testid': 'audit-list' },
            el('thead', null, el('tr', null,
                el('th', null, 'When (UTC)'), el('th', null, 'Action'), el('th', null, 'Actor'),
                el('th', null, 'Outcome'), el('th', null, 'Detail'))),
            el('tbody', null, ...rows));
    }

    /* Admins only: reason, then an explicit confirmation, then POST. */
    function revokeView(cert) {
        const serial = String(cert.serial);
        const reason = el('select', { 'data-testid': 'revoke-reason', 'aria-label': 'Revocation reason' },
            el('option', { value: '', disabled: true, selected: true }, 'choose a reason…'),
            ...REASONS.map(([v, label]) => el('option', { value: v }, `${label} (${v})`)));
        const start = el('button', { type: 'button', class: 'btn btn-danger-quiet', 'data-testid': 'revoke-button', disabled: true },
            'Revoke…');
        const confirmBtn = el('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'revoke-confirm' },
            `Confirm revoke of ${serial}`);
        const cancel = el('button', { type: 'button', class: 'btn', 'data-testid': 'revoke-cancel' }, 'Cancel');
        const question = el('p', { class: 'confirm-text' });
        const box = el('div', { class: 'confirm', 'data-testid': 'revoke-confirm-box', role: 'alertdialog', hidden: true },
            question, el('div', { class: 'confirm-actions' }, confirmBtn, cancel));

        reason.addEventListener('change', () => {
            start.disabled = !reason.value;
            box.hidden = true;
        });
        start.addEventListener('click', () => {
            if (!reason.value) {
                return;
            }
            const name = cnOf(cert);
            question.replaceChildren(
                'Revoke ', el('strong', { class: 'mono' }, serial),
                name !== null ? ` (${name})` : '',
                ' for ', el('strong', null, reason.value), '? ',
                'Relying parties see it in the CRL and OCSP at once. This cannot be undone.');
            box.hidden = false;
            start.disabled = true;
            reason.disabled = true;
            cancel.focus();
        });
        cancel.addEventListener('click', () => {
            box.hidden = true;
            reason.disabled = false;
            start.disabled = !reason.value;
        });
        confirmBtn.addEventListener('click', async () => {
            confirmBtn.disabled = true;
            cancel.disabled = true;
            confirmBtn.textContent = 'Revoking…';
            try {
                const r = await api(`/certificates/${encodeURIComponent(serial)}/revoke`, {
                    method: 'POST',
                    json: { reason: reason.value },
                });
                markRevoked(serial, r);
                clearError('revoke');
            } catch (e) {
                showError(e, `Revoking ${serial}`, 'revoke');
                confirmBtn.disabled = false;
                cancel.disabled = false;
                confirmBtn.textContent = `Confirm revoke of ${serial}`;
                if (e.code !== 'already_revoked') {
                    return;
                }
            }
            if (state.detailSerial === serial) {
                showDetail(serial);
            }
            loadStats();
        });
        return el('section', { class: 'detail-section revoke', 'data-testid': 'revoke-panel' },
            el('h3', null, 'Revoke'),
            el('div', { class: 'revoke-row' }, reason, start),
            box);
    }

    /* The revocation answer, applied in place to the row and the panel. */
    function markRevoked(serial, r) {
        const revocation = { revoked_at: r && r.revoked_at, reason: r && r.reason };
        const item = state.items.get(serial);
        if (item) {
            item.status = 'revoked';
            item.revocation = revocation;
        }
        const row = document.querySelector(`[data-testid="cert-row"][data-serial="${CSS.escape(serial)}"]`);
        if (row) {
            row.dataset.status = 'revoked';
            row.className = `row row-revoked${serial === state.detailSerial ? ' is-selected' : ''}`;
            row.querySelector('[data-testid="cell-status"]').replaceChildren(badge('revoked', revocation));
        }
        if (state.detailSerial === serial) {
            byId('detail-badge').replaceChildren(badge('revoked', revocation));
            byId('detail').dataset.status = 'revoked';
            const panel = document.querySelector('[data-testid="revoke-panel"]');
            if (panel) {
                panel.remove();
            }
        }
    }

    async function downloadPem(serial, button) {
        button.disabled = true;
        try {
            const resp = await api(`/certificates/${encodeURIComponent(serial)}`,
                { accept: 'application/pem-certificate-chain' });
            const blob = new Blob([await resp.text()], { type: 'application/pem-certificate-chain' });
            const url = URL.createObjectURL(blob);
            const a = el('a', { href: url, download: `${serial}.pem`, hidden: true });
            document.body.append(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 30000);
        } catch (e) {
            showError(e, `Downloading ${serial}.pem`, 'download');
        } finally {
            button.disabled = false;
        }
    }

    async function copyPem(pem, status, box) {
        try {
            if (!navigator.clipboard || !window.isSecureContext) {
                throw new Error('no clipboard');
            }
            await navigator.clipboard.writeText(pem);
            status.textContent = 'Copied.';
            status.dataset.result = 'copied';
            box.hidden = true;
        } catch {
            /* no clipboard access (permission, policy): let the operator copy by hand */
            const ta = el('textarea', { readonly: true, rows: 8, spellcheck: 'false', 'aria-label': 'Certificate PEM' });
            ta.value = pem;
            box.replaceChildren(ta);
            box.hidden = false;
            ta.focus();
            ta.select();
            status.textContent = 'Clipboard unavailable: the PEM is selected below, press Ctrl+C.';
            status.dataset.result = 'fallback';
        }
    }

    /* ---- wiring ---- */

    function bind() {
        const search = byId('search');
        search.addEventListener('input', () => {
            clearTimeout(state.searchTimer);
            if (state.listCtl) {
                state.listCtl.abort(); /* its answer is for a query no longer typed */
            }
            state.searchTimer = setTimeout(() => {
                const q = search.value.trim().slice(0, 256);
                if (q !== state.filter.q || !byId('cert-table').dataset.query) {
                    state.filter.q = q;
                    reload();
                } else {
                    loadList(); /* the aborted request's page */
                }
            }, SEARCH_DEBOUNCE_MS);
        });
        search.addEventListener('keydown', (ev) => {
            if (ev.key === 'Escape' && search.value) {
                ev.stopPropagation();
                search.value = '';
                search.dispatchEvent(new Event('input'));
            }
        });
        byId('status-filter').addEventListener('change', (ev) => {
            state.filter.status = ev.target.value;
            reload();
        });
        byId('sort').addEventListener('change', (ev) => {
            state.filter.sort = ev.target.value === 'expires' ? 'expires' : 'issued';
            reload();
        });
        for (const btn of document.querySelectorAll('.count')) {
            btn.addEventListener('click', () => {
                const f = state.filter;
                f.status = btn.dataset.status || '';
                f.after = null;
                f.before = null;
                f.rangeLabel = '';
                reload();
            });
        }
        byId('clear-filter').addEventListener('click', () => {
            const f = state.filter;
            f.after = null;
            f.before = null;
            f.rangeLabel = '';
            reload();
        });
        byId('reset-filters').addEventListener('click', () => {
            clearTimeout(state.searchTimer);
            state.filter = { q: '', status: '', sort: 'issued', after: null, before: null, rangeLabel: '' };
            byId('search').value = '';
            reload();
        });
        byId('refresh').addEventListener('click', () => {
            loadStats();
            loadList();
            if (state.detailSerial) {
                showDetail(state.detailSerial);
            }
        });
        byId('prev-page').addEventListener('click', () => {
            if (state.pages.length > 1) {
                state.pages.pop();
                loadList();
            }
        });
        byId('next-page').addEventListener('click', () => {
            if (state.next) {
                state.pages.push(state.next);
                loadList();
            }
        });

        const tbody = byId('cert-rows');
        tbody.addEventListener('click', (ev) => {
            const tr = ev.target.closest('[data-testid="cert-row"]');
            if (tr && !window.getSelection().toString()) {
                openDetail(tr.dataset.serial);
            }
        });
        tbody.addEventListener('keydown', (ev) => {
            const tr = ev.target.closest('[data-testid="cert-row"]');
            if (!tr) {
                return;
            }
            if (ev.key === 'Enter' || ev.key === ' ') {
                ev.preventDefault();
                openDetail(tr.dataset.serial);
            } else if (ev.key === 'ArrowDown' && tr.nextElementSibling) {
                ev.preventDefault();
                tr.nextElementSibling.focus();
            } else if (ev.key === 'ArrowUp' && tr.previousElementSibling) {
                ev.preventDefault();
                tr.previousElementSibling.focus();
            }
        });

        byId('detail-close').addEventListener('click', closeDetail);
        byId('error-dismiss').addEventListener('click', () => {
            byId('error-banner').hidden = true;
        });
        window.addEventListener('hashchange', route);
        document.addEventListener('keydown', (ev) => {
            const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement ||
                ev.target instanceof HTMLSelectElement;
            if (ev.key === 'Escape' && state.detailSerial) {
                closeDetail();
            } else if (ev.key === '/' && !typing) {
                ev.preventDefault();
                search.focus();
            }
        });

        let resizeTimer = 0;
        new ResizeObserver(() => {
            clearTimeout(resizeTimer);
            resizeTimer = setTimeout(() => {
                if (state.weeks.length) {
                    renderChart();
                }
            }, 100);
        }).observe(byId('chart-body'));
    }

    async function start() {
        bind();
        syncControls();
        await loadWhoami(); /* before any detail: it decides the revoke control */
        loadStats();
        loadList();
        route();
        /* keep relative times and counts honest on a page left open */
        setInterval(loadStats, 5 * 60 * 1000);
    }

    start();
})();
