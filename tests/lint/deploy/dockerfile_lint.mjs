// Lints a Dockerfile where hadolint cannot be had (Debian 12 has no
// package, and its npm wrapper downloads a binary): dockerfile-utils'
// validator (the syntax and flags Docker's builder accepts: unknown
// instructions or flags, bad durations, ports, signals, JSON in single
// quotes...) with every check as an error, the hadolint rules below by
// their hadolint codes, and shellcheck on each RUN when it is installed,
// as hadolint does. `# hadolint ignore=CODE,...` on the line before an
// instruction silences those codes for it, as in hadolint.
//
// Usage: node dockerfile_lint.mjs NODE_MODULES DOCKERFILE
// Prints one line per finding; exit 1 if there is any, 0 if none.
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const [modules, file] = process.argv.slice(2);
if (!modules || !file) {
    console.error("usage: node dockerfile_lint.mjs NODE_MODULES DOCKERFILE");
    process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "noop.js"));
const { validate, ValidationSeverity } = require("dockerfile-utils");
const { DockerfileParser } = require("dockerfile-ast");

const shellcheck = (() => {
    try {
        execFileSync("shellcheck", ["--version"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
})();
const text = fs.readFileSync(file, "utf8");
const lines = text.split("\n");
const findings = [];
const report = (line, code, msg) =>
    findings.push(`${file}:${line + 1}: ${code} ${msg}`);

// 1. What Docker's builder would refuse, and its style checks, as errors.
const E = ValidationSeverity.ERROR;
for (const d of validate(text, {
    deprecatedMaintainer: E, directiveCasing: E, emptyContinuationLine: E,
    instructionCasing: E, instructionCmdMultiple: E,
    instructionEntrypointMultiple: E, instructionHealthcheckMultiple: E,
    instructionJSONInSingleQuotes: E, instructionWorkdirRelative: E,
})) {
    report(d.range.start.line, `dockerfile-utils(${d.code})`, d.message);
}

// 2. hadolint's rules that matter here, honouring its ignore pragmas.
const ignored = (line) => {
    const m = /^\s*#\s*hadolint\s+ignore=([A-Z0-9,\s]+)$/.exec(lines[line - 1] ?? "");
    return new Set(m ? m[1].split(",").map((s) => s.trim()) : []);
};
const instructions = DockerfileParser.parse(text).getInstructions();
const stages = []; // { name, line, instructions: [] }
for (const ins of instructions) {
    const line = ins.getRange().start.line;
    const kw = ins.getKeyword();
    const args = ins.getArgumentsContent() ?? "";
    const skip = ignored(line);
    const rule = (code, bad, msg) => {
        if (bad && !skip.has(code)) {
            report(line, code, msg);
        }
    };
    if (kw === "FROM") {
        const [image, as, name] = args.split(/\s+/);
        const known = stages.some((s) => s.name === image);
        rule("DL3006", !known && !/[:@]/.test(image.replace(/^[^/]*:\d+\//, "")),
            `always tag the image explicitly: ${image}`);
        rule("DL3007", /:latest$/.test(image), "do not use the latest tag");
        stages.push({ name: /^as$/i.test(as ?? "") ? name : null, line, instructions: [] });
        continue;
    }
    stages.at(-1)?.instructions.push({ ins, kw, args, line, skip });
    rule("DL3020", kw === "ADD" && !/https?:\/\/|\.tar/.test(args), "use COPY instead of ADD for files");
    rule("DL3025", (kw === "CMD" || kw === "ENTRYPOINT") && !args.trim().startsWith("["),
        `use the JSON form of ${kw}, so signals reach the process`);
    if (kw === "COPY") {
        const from = /--from=(\S+)/.exec(args);
        rule("DL3022", from && !/^\d+$/.test(from[1]) && !stages.some((s) => s.name === from[1]) &&
            !/[:/]/.test(from[1]), `COPY --from names no earlier stage: ${from?.[1]}`);
    }
    if (kw === "RUN") {
        rule("DL3004", /(^|[;&|]\s*)sudo\s/.test(args), "do not use sudo");
        rule("DL3003", /(^|[;&|]\s*)cd\s/.test(args), "use WORKDIR to switch directory");
        rule("DL3027", /(^|[;&|]\s*)apt\s/.test(args), "use apt-get, not apt");
        for (const m of args.matchAll(/apt-get\s+(?:-\S+\s+)*install\b([^;&|]*)/g)) {
            const words = m[1].trim().split(/\s+/);
            rule("DL3014", !words.some((w) => /^(-y|--yes|--assume-yes|-\w*y\w*)$/.test(w)),
                "use apt-get install -y");
            rule("DL3015", !words.includes("--no-install-recommends"),
                "use apt-get install --no-install-recommends");
            rule("DL3008", words.some((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w) && !w.includes("=")),
                "pin versions in apt-get install");
            rule("DL3009", !/rm\s+-rf?\s+\/var\/lib\/apt\/lists/.test(args),
                "delete the apt lists after installing");
        }
        // 3. shellcheck on the shell form, as hadolint runs it
        if (!args.trim().startsWith("[") && shellcheck) {
            const exclude = [...skip].filter((c) => c.startsWith("SC")).map((c) => c.slice(2));
            try {
                execFileSync("shellcheck", ["-s", "sh", "-f", "gcc",
                    ...(exclude.length ? ["-e", exclude.join(",")] : []), "-"],
                { input: args + "\n", stdio: ["pipe", "pipe", "pipe"] });
            } catch (e) {
                for (const l of String(e.stdout).trim().split("\n")) {
                    report(line, "shellcheck", l.replace(/^-:\d+:\d+: /, ""));
                }
            }
        }
    }
}

// 4. The final stage: what a CA's container needs.
const last = stages.at(-1);
if (!last) {
    report(0, "DL3061", "no FROM");
} else {
    const of = (kw) => last.instructions.filter((i) => i.kw === kw);
    const users = of("USER");
    const user = users.at(-1);
    if (!user || /^(root|0)(:|$)/.test(user.args.trim())) {
        report(user ? user.line : last.line, "DL3002",
            "the last USER must not be root: the daemon runs unprivileged");
    }
    if (of("HEALTHCHECK").length !== 1) {
        report(last.line, "warden", "the final stage needs one HEALTHCHECK");
    }
    const volumes = of("VOLUME").map((i) => i.args).join(" ");
    if (!volumes.includes("/var/lib/warden")) {
        report(last.line, "warden", "the data dir /var/lib/warden must be a VOLUME");
    }
    const exposed = of("EXPOSE").flatMap((i) => i.args.split(/\s+/));
    for (const port of ["8443", "8080"]) {
        if (!exposed.includes(port)) {
            report(last.line, "warden", `EXPOSE ${port}`);
        }
    }
}

if (findings.length) {
    console.log(findings.join("\n"));
    process.exit(1);
}
console.log(`dockerfile_lint: ${file}: no findings` +
    (shellcheck ? "" : " (shellcheck not installed: RUN bodies not checked)"));
