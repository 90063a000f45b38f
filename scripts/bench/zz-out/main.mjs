// src/main.ts
import path8 from "node:path";
import { pathToFileURL } from "node:url";

// src/core/adopt.ts
import path from "node:path/posix";

// src/domain/types.ts
var OUTPUT_EXTS = ["csv", "schema", "meta", "hist", "edd"];
function refuse(code, message) {
  return { ok: false, code, message };
}

// src/domain/props.ts
var isBlank = (c) => c === " " || c === "	" || c === "\f";
var isEol = (c) => c === "\r" || c === "\n";
var LogicalLineReader = class {
  constructor(text) {
    this.text = text;
  }
  text;
  off = 0;
  endsInContinuation = false;
  readLine() {
    const text = this.text;
    const n = text.length;
    const chars = [];
    const positions = [];
    let len = 0;
    let skipWhiteSpace = true;
    let appendedLineBegin = false;
    let precedingBackslash = false;
    let firstCharAt = -1;
    let continuationTermAt = -1;
    let continuationTermEnd = -1;
    const finish = (length, lineEnd, lineTerminator) => {
      chars.length = length;
      positions.length = length;
      return { chars, positions, lineStart: physicalLineStart(text, firstCharAt), lineEnd, lineTerminator };
    };
    for (; ; ) {
      if (this.off >= n) {
        if (len === 0) return null;
        const afterContinuationOnly = skipWhiteSpace && appendedLineBegin && continuationTermEnd === n;
        this.endsInContinuation = precedingBackslash || afterContinuationOnly;
        return afterContinuationOnly ? finish(len, continuationTermAt, text.slice(continuationTermAt, n)) : finish(precedingBackslash ? len - 1 : len, n, "");
      }
      const c = text[this.off++];
      if (skipWhiteSpace) {
        if (isBlank(c)) continue;
        if (!appendedLineBegin && isEol(c)) continue;
        skipWhiteSpace = false;
        appendedLineBegin = false;
      }
      if (len === 0 && (c === "#" || c === "!")) {
        let ended = false;
        while (this.off < n) {
          if (isEol(text[this.off++])) {
            ended = true;
            break;
          }
        }
        if (!ended) return null;
        skipWhiteSpace = true;
        firstCharAt = -1;
        continue;
      }
      if (!isEol(c)) {
        chars[len] = c;
        positions[len] = this.off - 1;
        len++;
        if (firstCharAt < 0) firstCharAt = this.off - 1;
        precedingBackslash = c === "\\" ? !precedingBackslash : false;
        continue;
      }
      if (len === 0) {
        skipWhiteSpace = true;
        firstCharAt = -1;
        continue;
      }
      const termAt = this.off - 1;
      if (this.off >= n) {
        this.endsInContinuation = precedingBackslash;
        return finish(precedingBackslash ? len - 1 : len, termAt, c);
      }
      if (precedingBackslash) {
        len -= 1;
        skipWhiteSpace = true;
        appendedLineBegin = true;
        precedingBackslash = false;
        if (c === "\r" && text[this.off] === "\n") this.off++;
        continuationTermAt = termAt;
        continuationTermEnd = this.off;
        continue;
      }
      const terminator = c === "\r" && text[this.off] === "\n" ? "\r\n" : c;
      return finish(len, termAt, terminator);
    }
  }
};
function physicalLineStart(text, offset) {
  let i = offset;
  while (i > 0 && !isEol(text[i - 1])) i--;
  return i;
}
function unescape(chars, from, to) {
  let out = "";
  let i = from;
  while (i < to) {
    let c = chars[i++];
    if (c !== "\\") {
      out += c;
      continue;
    }
    c = chars[i++] ?? "";
    if (c === "u") {
      if (i > to - 4) return { ok: false };
      let code = 0;
      for (let k = 0; k < 4; k++) {
        const digit = parseHexDigit(chars[i++]);
        if (digit < 0) return { ok: false };
        code = (code << 4) + digit;
      }
      out += String.fromCharCode(code);
    } else {
      out += c === "t" ? "	" : c === "r" ? "\r" : c === "n" ? "\n" : c === "f" ? "\f" : c;
    }
  }
  return { ok: true, text: out };
}
function parseHexDigit(c) {
  if (c >= "0" && c <= "9") return c.charCodeAt(0) - 48;
  if (c >= "a" && c <= "f") return c.charCodeAt(0) - 87;
  if (c >= "A" && c <= "F") return c.charCodeAt(0) - 55;
  return -1;
}
var LineCounter = class {
  constructor(text) {
    this.text = text;
  }
  text;
  at = 0;
  line = 1;
  lineNumberAt(offset) {
    for (; this.at < offset; this.at++) {
      const c = this.text[this.at];
      if (c === "\n" || c === "\r" && this.text[this.at + 1] !== "\n") this.line++;
    }
    return this.line;
  }
};
function parseProps(text) {
  const reader = new LogicalLineReader(text);
  const counter = new LineCounter(text);
  const entries = [];
  const errors = [];
  for (let line = reader.readLine(); line !== null; line = reader.readLine()) {
    const { chars, positions } = line;
    const limit = chars.length;
    let keyLen = 0;
    let valueAt = limit;
    let hasSeparator = false;
    let precedingBackslash = false;
    while (keyLen < limit) {
      const c = chars[keyLen];
      if ((c === "=" || c === ":") && !precedingBackslash) {
        valueAt = keyLen + 1;
        hasSeparator = true;
        break;
      }
      if (isBlank(c) && !precedingBackslash) {
        valueAt = keyLen + 1;
        break;
      }
      precedingBackslash = c === "\\" ? !precedingBackslash : false;
      keyLen++;
    }
    while (valueAt < limit) {
      const c = chars[valueAt];
      if (!isBlank(c)) {
        if (!hasSeparator && (c === "=" || c === ":")) hasSeparator = true;
        else break;
      }
      valueAt++;
    }
    const lineNumber = counter.lineNumberAt(line.lineStart);
    const key = unescape(chars, 0, keyLen);
    const value = unescape(chars, valueAt, limit);
    if (!key.ok || !value.ok) {
      errors.push({
        lineNumber,
        lineStart: line.lineStart,
        lineEnd: line.lineEnd,
        message: `line ${lineNumber}: malformed \\uXXXX escape (a \\u must be followed by exactly four hex digits)`
      });
      continue;
    }
    const contentEnd = limit > 0 ? positions[limit - 1] + 1 : line.lineStart;
    const keyStart = limit > 0 ? positions[0] : line.lineStart;
    entries.push({
      key: key.text,
      value: value.text,
      lineNumber,
      lineStart: line.lineStart,
      keyStart,
      keyEnd: keyLen > 0 ? positions[keyLen - 1] + 1 : keyStart,
      valueStart: valueAt < limit ? positions[valueAt] : contentEnd,
      lineEnd: line.lineEnd,
      lineTerminator: line.lineTerminator
    });
  }
  return { text, entries, errors, endsInContinuation: reader.endsInContinuation };
}
function toMap(doc) {
  const map = /* @__PURE__ */ new Map();
  for (const entry of doc.entries) map.set(entry.key, entry.value);
  return map;
}
function lastEntry(doc, key) {
  for (let i = doc.entries.length - 1; i >= 0; i--) {
    const entry = doc.entries[i];
    if (entry.key === key) return entry;
  }
  return void 0;
}
function dominantLineTerminator(text) {
  let lf = 0;
  let crlf = 0;
  let cr = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") lf++;
    else if (c === "\r") {
      if (text[i + 1] === "\n") {
        crlf++;
        i++;
      } else cr++;
    }
  }
  if (crlf > lf && crlf >= cr) return "\r\n";
  if (cr > lf && cr > crlf) return "\r";
  return "\n";
}
function escapeChar(c) {
  switch (c) {
    case "\\":
      return "\\\\";
    case "	":
      return "\\t";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\f":
      return "\\f";
  }
  const code = c.charCodeAt(0);
  const loneSurrogate = code >= 55296 && code <= 57343;
  if (code < 32 || code === 127 || loneSurrogate) return "\\u" + code.toString(16).toUpperCase().padStart(4, "0");
  return c;
}
function escapeWith(text, special) {
  let out = "";
  let i = 0;
  for (const c of text) {
    if (c.length === 2) out += c;
    else out += special(c, i) ? "\\" + c : escapeChar(c);
    i += c.length;
  }
  return out;
}
function escapePropsKey(key) {
  return escapeWith(key, (c) => c === " " || c === "=" || c === ":" || c === "#" || c === "!");
}
function escapePropsValue(value) {
  return escapeWith(value, (c, i) => i === 0 && (c === " " || c === "=" || c === ":"));
}

// src/domain/pins.ts
var UNPINNED = { version: null, key: null, source: null };
function pinKeys(stage) {
  return { base: `smv.stages.${stage.baseName}.version`, fqn: `smv.stages.${stage.fqn}.version` };
}
var FILE_LABEL = { app: "app conf", user: "user conf" };
function effectiveFromMaps(stage, app, user) {
  const { base, fqn } = pinKeys(stage);
  for (const key of [base, fqn]) {
    const fromUser = user.get(key);
    if (fromUser !== void 0) return { version: fromUser, key, source: "user" };
    const fromApp = app.get(key);
    if (fromApp !== void 0) return { version: fromApp, key, source: "app" };
  }
  return UNPINNED;
}
function effectivePin(stage, files) {
  return effectiveFromMaps(stage, toMap(parseProps(files.app ?? "")), toMap(parseProps(files.user ?? "")));
}
function describePin(pin) {
  if (pin.key === null) return "not pinned";
  const where = FILE_LABEL[pin.source ?? "user"];
  return `${pin.version === "" ? "an empty value" : pin.version} (\`${pin.key}\` in the ${where})`;
}
function samePin(a, b) {
  return a.version === b.version && a.key === b.key && a.source === b.source;
}
function parseBoth(files) {
  const app = parseProps(files.app ?? "");
  const user = parseProps(files.user ?? "");
  for (const [source, doc] of [["user", user], ["app", app]]) {
    const first = doc.errors[0];
    if (first) {
      return refuse(
        "props-syntax-error",
        `The ${FILE_LABEL[source]} cannot be loaded by Java/SMV: ${first.message}. Fix that line in the repository, then try again.`
      );
    }
  }
  return { ok: true, parsed: { app, user, appMap: toMap(app), userMap: toMap(user) } };
}
function stagesSharingBaseName(stage, knownStages) {
  return knownStages.filter((s) => s.baseName === stage.baseName && s.fqn !== stage.fqn);
}
function sharedBaseKeyRefusal(stage, sharing, baseKey, where, consequence) {
  const fqns = [stage, ...sharing].map((s) => `\`${s.fqn}\``).join(", ");
  const fqnKeys = [stage, ...sharing].map((s) => `\`${pinKeys(s).fqn}\``).join(", ");
  return refuse(
    "ambiguous-base-pin",
    `\`${baseKey}\` (in the ${where}) applies to every stage named \`${stage.baseName}\` (${fqns}), and SMV reads it before any FQN key, so ${consequence}. Replace that line by hand with one FQN key per stage (${fqnKeys}), then try again.`
  );
}
function firstDifference(expected, actual) {
  for (const [key, value] of expected) {
    if (!actual.has(key)) return `key \`${key}\` disappeared`;
    if (actual.get(key) !== value) return `key \`${key}\` would read ${JSON.stringify(actual.get(key))} instead of ${JSON.stringify(value)}`;
  }
  for (const key of actual.keys()) if (!expected.has(key)) return `a new key \`${key}\` appeared`;
  return null;
}
function verifyEditedUserConf(editedText, expectedUserMap, parsed, stage, knownStages) {
  const edited = parseProps(editedText);
  const failed = (problem) => refuse(
    "edit-verification-failed",
    `The edit of the user conf did not check out (${problem}), so nothing was changed. Edit the pin by hand and report this to the smvbot maintainers.`
  );
  if (edited.errors.length > 0) return failed(`it would not load in Java: ${edited.errors[0]?.message}`);
  const after = toMap(edited);
  const difference = firstDifference(expectedUserMap, after);
  if (difference) return failed(difference);
  for (const other of knownStages) {
    if (other.fqn === stage.fqn) continue;
    const beforePin = effectiveFromMaps(other, parsed.appMap, parsed.userMap);
    const afterPin = effectiveFromMaps(other, parsed.appMap, after);
    if (!samePin(beforePin, afterPin)) {
      return refuse(
        "pin-side-effect",
        `That edit would also change the pin of \`${other.fqn}\` (${describePin(beforePin)} \u2192 ${describePin(afterPin)}), so nothing was changed. Give each stage its own FQN key (\`${pinKeys(other).fqn}\`) in the props files by hand, then try again.`
      );
    }
  }
  return { ok: true, after };
}
function replaceEntryValue(text, entry, value) {
  const prefix = text.slice(entry.lineStart, entry.valueStart);
  const keepPrefix = entry.value !== "" && !/[\r\n]/.test(prefix);
  const indent = text.slice(entry.lineStart, entry.keyStart);
  const line = keepPrefix ? prefix + escapePropsValue(value) : (/[\r\n]/.test(indent) ? "" : indent) + `${escapePropsKey(entry.key)} = ${escapePropsValue(value)}`;
  return text.slice(0, entry.lineStart) + line + text.slice(entry.lineEnd);
}
function appendEntry(doc, key, value) {
  const line = `${escapePropsKey(key)} = ${escapePropsValue(value)}`;
  const text = doc.text;
  if (text === "") return line + "\n";
  const eol = dominantLineTerminator(text);
  const last = doc.entries[doc.entries.length - 1];
  if (doc.endsInContinuation && last) {
    return text.slice(0, last.lineStart) + line + eol + text.slice(last.lineStart);
  }
  const gap = /[\r\n]$/.test(text) ? "" : eol;
  return text + gap + line + eol;
}
function setPin(input) {
  const { stage, version, knownStages } = input;
  if (version === "") return refuse("invalid-version", "The version to pin is empty. Type a published version, e.g. `TCD.20160802.geo`, or `latest`.");
  const parsedResult = parseBoth({ app: input.appText, user: input.userText });
  if (!parsedResult.ok) return parsedResult;
  const parsed = parsedResult.parsed;
  const previous = effectiveFromMaps(stage, parsed.appMap, parsed.userMap);
  if (previous.version === version && previous.key !== null) {
    return { ok: true, text: input.userText ?? "", changed: false, key: previous.key, previous };
  }
  const { base, fqn } = pinKeys(stage);
  const sharing = stagesSharingBaseName(stage, knownStages);
  const baseSource = parsed.userMap.has(base) ? "user" : parsed.appMap.has(base) ? "app" : null;
  if (sharing.length > 0 && baseSource !== null) {
    return sharedBaseKeyRefusal(stage, sharing, base, FILE_LABEL[baseSource], `\`${stage.fqn}\` cannot be pinned on its own`);
  }
  const key = baseSource !== null ? base : parsed.userMap.has(fqn) ? fqn : sharing.length > 0 ? fqn : base;
  const existing = lastEntry(parsed.user, key);
  const text = existing ? replaceEntryValue(parsed.user.text, existing, version) : appendEntry(parsed.user, key, version);
  const expected = new Map(parsed.userMap).set(key, version);
  const verified = verifyEditedUserConf(text, expected, parsed, stage, knownStages);
  if (!verified.ok) return verified;
  const now = effectiveFromMaps(stage, parsed.appMap, verified.after);
  if (now.version !== version) {
    return refuse(
      "pin-not-effective",
      `Writing \`${key}\` would not take effect: SMV would still use ${describePin(now)}. Nothing was changed; remove that key by hand, then try again.`
    );
  }
  return { ok: true, text, changed: true, key, previous };
}
function removePin(input) {
  const { stage, knownStages } = input;
  const parsedResult = parseBoth({ app: input.appText, user: input.userText });
  if (!parsedResult.ok) return parsedResult;
  const parsed = parsedResult.parsed;
  const { base, fqn } = pinKeys(stage);
  const keys = /* @__PURE__ */ new Set([base, fqn]);
  const lines = parsed.user.entries.filter((e) => keys.has(e.key));
  if (lines.length === 0) {
    const stillPinnedBy2 = effectiveFromMaps(stage, parsed.appMap, parsed.userMap);
    return { ok: true, text: input.userText ?? "", changed: false, removedKeys: [], stillPinnedBy: stillPinnedBy2 };
  }
  const sharing = stagesSharingBaseName(stage, knownStages);
  if (sharing.length > 0 && parsed.userMap.has(base)) {
    return sharedBaseKeyRefusal(stage, sharing, base, FILE_LABEL.user, "removing it would unpin the others too");
  }
  const source = parsed.user.text;
  let text = "";
  let copiedUpTo = 0;
  for (const entry of lines) {
    text += source.slice(copiedUpTo, entry.lineStart);
    copiedUpTo = entry.lineEnd + entry.lineTerminator.length;
  }
  text += source.slice(copiedUpTo);
  const removedKeys = [...keys].filter((k) => parsed.userMap.has(k));
  const expected = new Map(parsed.userMap);
  for (const key of removedKeys) expected.delete(key);
  const verified = verifyEditedUserConf(text, expected, parsed, stage, knownStages);
  if (!verified.ok) return verified;
  const stillPinnedBy = effectiveFromMaps(stage, parsed.appMap, verified.after);
  return { ok: true, text, changed: true, removedKeys, stillPinnedBy };
}

// src/domain/validation.ts
var VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;
var VERSION_EXAMPLE = "TCD.20160802.geo";
var MAX_LISTED = 5;
function quoted(text) {
  const cut = text.length > 60 ? `${text.slice(0, 60)}\u2026` : text;
  return JSON.stringify(cut);
}
function listCapped(items, max = MAX_LISTED) {
  if (items.length <= max) return items.join(", ");
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}
function whyInvalid(version) {
  if (version.length === 0) return "is empty";
  if (version.length > 200) return `is ${version.length} characters long (at most 200)`;
  if (/[/\\]/.test(version)) return "contains a path separator";
  if (/\s/.test(version)) return "contains whitespace or a line break";
  if (!/^[A-Za-z0-9]/.test(version)) return "must start with a letter or digit";
  const bad = [...version].find((ch) => !/[A-Za-z0-9._+-]/.test(ch)) ?? "";
  return `contains ${JSON.stringify(bad)}`;
}
function validateVersionString(version) {
  if (VERSION_PATTERN.test(version)) return null;
  return refuse(
    "invalid-version",
    `Version ${quoted(version)} ${whyInvalid(version)}. A version is the name of a directory under the publish dir: letters, digits and . _ + - only, starting with a letter or digit, e.g. ${VERSION_EXAMPLE}.`
  );
}
function suggestion(stageFqn, newest) {
  if (newest.length === 0) return `No complete version of ${stageFqn} has been published yet.`;
  return `Newest complete versions of ${stageFqn}: ${listCapped(newest)}. See \`/smv releases ${stageFqn}\` for more.`;
}
function checkVersionForStage(stageFqn, version, found, newest = []) {
  if (found === void 0) {
    return refuse(
      "unknown-version",
      `There is no published version ${quoted(version)} for ${stageFqn}. ${suggestion(stageFqn, newest)}`
    );
  }
  const holdsStage = found.stages.includes(stageFqn);
  if (!found.complete) {
    const notYet = holdsStage ? "" : ` (and it holds no ${stageFqn} modules yet)`;
    return refuse(
      "version-incomplete",
      `Version ${version} is not complete yet${notYet}: ${listCapped(found.incompleteReasons, 3)}. Wait for the publish to finish (it is announced when complete) and try again. ${suggestion(stageFqn, newest)}`
    );
  }
  if (!holdsStage) {
    const holds = found.stages.length === 0 ? "holds no modules of any configured stage" : `holds ${listCapped(found.stages)} only`;
    return refuse(
      "version-lacks-stage",
      `Version ${version} ${holds}, not ${stageFqn}. ${suggestion(stageFqn, newest)}`
    );
  }
  return null;
}
function entryIndex(version) {
  const index = /* @__PURE__ */ new Map();
  for (const mod of version.modules) for (const entry of mod.entries) index.set(entry.name, entry);
  return index;
}
function checkConsumerSync(publisher, consumerCopy, stageFqn, consumerPublishDir, publisherPublishDir = "<publisher publishDir>") {
  const version = publisher.version;
  const howToSync = `Sync it, e.g. \`rsync -a ${publisherPublishDir}/${version}/ ${consumerPublishDir}/${version}/\`, then try again.`;
  if (consumerCopy === void 0) {
    return refuse(
      "not-synced",
      `Version ${version} is not in the consumer's publish dir ${consumerPublishDir} yet. ${howToSync}`
    );
  }
  const copy = entryIndex(consumerCopy);
  const differences = [];
  for (const mod of publisher.modules) {
    if (mod.stage !== stageFqn) continue;
    for (const entry of mod.entries) {
      const theirs = copy.get(entry.name);
      if (theirs === void 0) differences.push(`${entry.name} missing`);
      else if (theirs.bytes !== entry.bytes) {
        differences.push(`${entry.name} is ${theirs.bytes} bytes, published ${entry.bytes}`);
      } else if (entry.complete && !theirs.complete) differences.push(`${entry.name} incomplete`);
    }
  }
  if (differences.length > 0) {
    return refuse(
      "sync-differs",
      `The copy of ${version} in ${consumerPublishDir} does not match what was published for ${stageFqn}: ${listCapped(differences)}. ${howToSync}`
    );
  }
  if (!consumerCopy.complete) {
    return refuse(
      "sync-incomplete",
      `The copy of ${version} in ${consumerPublishDir} is not complete yet: ${listCapped(consumerCopy.incompleteReasons, 3)}. Wait for the sync to finish and try again.`
    );
  }
  return null;
}

// src/core/adopt.ts
function appConfPathFor(confPath) {
  return path.join(path.dirname(confPath), "smv-app-conf.props");
}
function adoptBranchName(stage, version) {
  return `smvbot/adopt/${stage.displayName}/${version}`;
}
function slackAuthor(name, userId) {
  return { name, email: `${userId}@users.slack.invalid` };
}
var AdoptService = class {
  constructor(ports) {
    this.ports = ports;
    this.now = ports.now ?? (() => /* @__PURE__ */ new Date());
    this.sleep = ports.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }
  ports;
  now;
  sleep;
  async adopt(req) {
    const target = this.authorise(req);
    if (!target.ok) return target;
    const { consumer, stage } = target;
    const version = this.resolveVersion(stage, req.version);
    if (!version.ok) return version;
    const available = await this.checkAvailable(consumer, stage, version.version);
    if (available) return available;
    return this.ports.workspaces.use(consumer, async (repo) => {
      const landed = await this.commitChange(repo, consumer, stage, req.userId, {
        action: "adopt",
        to: version.version,
        edit: (userText, appText) => setPin({ userText, appText, stage, version: version.version, knownStages: this.ports.topology.stages }),
        message: (previous, who) => `Adopt ${stage.displayName} ${version.version} for ${consumer.name}

Previous: ${previous ?? "none"}
Adopted-by: ${who}
`,
        branch: adoptBranchName(stage, version.version)
      });
      if (!landed.ok) return landed;
      if (landed.status === "unchanged") {
        return { ok: true, status: "already-pinned", consumer, stage, version: version.version, pin: landed.previous };
      }
      return { ok: true, status: "adopted", version: version.version, ...landed.landed };
    });
  }
  async unpin(req) {
    const target = this.authorise(req);
    if (!target.ok) return target;
    const { consumer, stage } = target;
    return this.ports.workspaces.use(consumer, async (repo) => {
      let stillPinnedBy = { version: null, key: null, source: null };
      const landed = await this.commitChange(repo, consumer, stage, req.userId, {
        action: "unpin",
        to: null,
        edit: (userText, appText) => {
          const result = removePin({ userText, appText, stage, knownStages: this.ports.topology.stages });
          if (!result.ok) return result;
          stillPinnedBy = result.stillPinnedBy;
          const previous = effectivePin(stage, { app: appText, user: userText });
          return { ok: true, text: result.text, changed: result.changed, previous };
        },
        message: (previous, who) => `Unpin ${stage.displayName} for ${consumer.name}

Previous: ${previous ?? "none"}
Unpinned-by: ${who}
`,
        branch: `smvbot/unpin/${stage.displayName}`
      });
      if (!landed.ok) return landed;
      if (landed.status === "unchanged") return { ok: true, status: "not-pinned", consumer, stage, stillPinnedBy };
      return { ok: true, status: "unpinned", stillPinnedBy, ...landed.landed };
    });
  }
  authorise(req) {
    const { topology } = this.ports;
    const consumer = topology.resolveConsumer(req.consumer, void 0);
    if (!consumer.ok) return consumer;
    if (!topology.mayAdopt(consumer.consumer, req.userId)) {
      const who = [...consumer.consumer.adopters, ...topology.admins].filter((u) => u !== "*");
      return refuse(
        "not-authorised",
        `You are not allowed to change pins for \`${consumer.consumer.name}\`. ` + (who.length ? `Ask ${unique(who).map((u) => `<@${u}>`).join(", ")} to run it, or ask` : "Ask") + ` an admin to add your Slack user id (${req.userId}) to \`adopters\` of \`${consumer.consumer.name}\` in smvbot.yml.`
      );
    }
    const stage = topology.resolveStage(req.stage);
    if (!stage.ok) return stage;
    return { ok: true, consumer: consumer.consumer, stage: stage.stage };
  }
  resolveVersion(stage, requested) {
    if (requested.toLowerCase() === "latest") {
      const newest = this.ports.catalog.versionsOf(stage.fqn)[0];
      if (!newest) {
        return refuse(
          "no-versions",
          `No complete version of ${stage.displayName} has been published yet, so there is no latest to adopt. Try \`/smv releases\` later.`
        );
      }
      return { ok: true, version: newest.version };
    }
    const bad = validateVersionString(requested);
    return bad ?? { ok: true, version: requested };
  }
  /** The version must be complete at the publisher and, if configured, synced to the consumer. */
  async checkAvailable(consumer, stage, version) {
    const { publisher } = stage;
    const scanOpts = { stages: publisher.stages, settleSeconds: publisher.settleSeconds };
    const published = await this.ports.inspectVersion(publisher.publishDir, version, scanOpts);
    const newest = this.ports.catalog.versionsOf(stage.fqn).map((e) => e.version);
    const notAdoptable = checkVersionForStage(stage.fqn, version, published, newest);
    if (notAdoptable) return notAdoptable;
    if (!consumer.publishDir) return null;
    const copy = await this.ports.inspectVersion(consumer.publishDir, version, { stages: publisher.stages, settleSeconds: 0 });
    return checkConsumerSync(published, copy, stage.fqn, consumer.publishDir, publisher.publishDir);
  }
  async commitChange(repo, consumer, stage, userId, change) {
    const maxAttempts = consumer.mode === "push" ? this.ports.maxPushAttempts ?? 5 : 1;
    const userName = await this.ports.userName(userId);
    const who = `${userName} (${userId})`;
    try {
      for (let attempt = 1; ; attempt++) {
        await repo.resetToRemote();
        if (await repo.isIgnored(consumer.confPath)) return refuseIgnored(consumer);
        const [userText, appText] = await Promise.all([
          repo.readFile(consumer.confPath),
          repo.readFile(appConfPathFor(consumer.confPath))
        ]);
        const edit = change.edit(userText, appText);
        if (!edit.ok) return edit;
        if (!edit.changed) return { ok: true, status: "unchanged", previous: edit.previous };
        const previous = edit.previous.version;
        const commit = await repo.commitFile(consumer.confPath, edit.text, {
          message: change.message(previous, who),
          author: slackAuthor(userName, userId),
          committer: this.ports.committer
        });
        const branch = consumer.mode === "branch" ? change.branch : void 0;
        const pushed = await repo.push(branch ?? consumer.branch, { force: branch !== void 0 });
        if (!pushed.pushed) {
          if (attempt >= maxAttempts) {
            return refuse(
              "remote-busy",
              `\`${consumer.name}\`'s branch \`${consumer.branch}\` kept moving while I pushed (${attempt} attempts). Nothing was changed. Try the same command again in a minute.`
            );
          }
          await this.sleep(backoffMs(attempt));
          continue;
        }
        const record = {
          id: `${commit.slice(0, 12)}-${this.now().getTime()}`,
          at: this.now().toISOString(),
          action: change.action,
          consumer: consumer.name,
          stage: stage.fqn,
          from: previous,
          to: change.to,
          commit,
          mode: consumer.mode,
          ...branch ? { branch } : {},
          user: { id: userId, name: userName }
        };
        await this.ports.recordAdoption(record);
        this.ports.afterChange?.(consumer.name);
        return {
          ok: true,
          status: "landed",
          landed: { consumer, stage, previous, commit, mode: consumer.mode, ...branch ? { branch } : {}, record }
        };
      }
    } catch (error2) {
      const gist = this.ports.gitErrorGist(error2);
      if (gist === null) throw error2;
      return refuse(
        "git-failed",
        `Could not update \`${consumer.name}\` (${withoutCredentials(consumer.repo)}, branch \`${consumer.branch}\`): ${gist.replace(/[.\s]+$/, "")}. Nothing was changed on the remote. Check that the bot can fetch and push there, then try again.`
      );
    }
  }
};
function refuseIgnored(consumer) {
  return refuse(
    "conf-ignored",
    `\`${consumer.confPath}\` is git-ignored in \`${consumer.name}\` (SMV's project template ignores it), so a pin committed there would never reach anyone. Either track it (remove it from .gitignore and commit it), or point \`confPath\` in smvbot.yml at a tracked config file. Nothing was changed.`
  );
}
function backoffMs(attempt) {
  return Math.round(100 * attempt * (1 + Math.random()));
}
function withoutCredentials(repo) {
  return repo.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
}
function unique(items) {
  return [...new Set(items)];
}

// src/core/catalog.ts
function toCatalogEntry(publisher, v) {
  return {
    publisher,
    version: v.version,
    stages: v.stages,
    moduleCount: v.modules.length,
    bytes: v.bytes,
    completedAt: v.completedAt,
    removed: v.removedAt !== void 0
  };
}
function newestFirst(a, b) {
  if (a.completedAt !== b.completedAt) return a.completedAt < b.completedAt ? 1 : -1;
  return b.version.localeCompare(a.version);
}
var StateCatalog = class {
  constructor(store) {
    this.store = store;
  }
  store;
  index = null;
  invalidate() {
    this.index = null;
  }
  versionsOf(stageFqn, opts = {}) {
    const all = this.buildIndex().get(stageFqn) ?? [];
    return opts.includeRemoved ? all : all.filter((e) => !e.removed);
  }
  find(publisher, version) {
    const stored = this.store.data.publishers[publisher]?.versions[version];
    return stored ? toCatalogEntry(publisher, stored) : void 0;
  }
  buildIndex() {
    if (this.index) return this.index;
    const index = /* @__PURE__ */ new Map();
    for (const [publisher, { versions }] of Object.entries(this.store.data.publishers)) {
      for (const stored of Object.values(versions)) {
        const entry = toCatalogEntry(publisher, stored);
        for (const stage of entry.stages) {
          let list = index.get(stage);
          if (!list) index.set(stage, list = []);
          list.push(entry);
        }
      }
    }
    for (const list of index.values()) list.sort(newestFirst);
    this.index = index;
    return index;
  }
};

// src/core/pinsReport.ts
var PinsService = class {
  constructor(ports) {
    this.ports = ports;
    this.now = ports.now ?? (() => /* @__PURE__ */ new Date());
  }
  ports;
  cache = /* @__PURE__ */ new Map();
  now;
  /** Fresh read unless one from the last `cacheMs` is at hand. Git errors propagate. */
  confFiles(consumer, opts = {}) {
    const cached = this.cache.get(consumer.name);
    const maxAge = this.ports.cacheMs ?? 3e4;
    if (!opts.fresh && cached && this.now().getTime() - cached.at < maxAge) return cached.files;
    const files = this.ports.workspaces.use(consumer, async (repo) => {
      await repo.resetToRemote();
      const [user, app] = await Promise.all([repo.readFile(consumer.confPath), repo.readFile(appConfPathFor(consumer.confPath))]);
      return { user, app, readAt: this.now().toISOString() };
    });
    this.cache.set(consumer.name, { at: this.now().getTime(), files });
    files.catch(() => this.cache.delete(consumer.name));
    return files;
  }
  /** Forget what was read (after the bot itself changed the repo). */
  invalidate(consumer) {
    this.cache.delete(consumer);
  }
  pinOf(files, stage) {
    return effectivePin(stage, files);
  }
  /** Every known stage's effective pin for the consumer, with staleness and sync warnings. */
  async report(consumer) {
    const files = await this.confFiles(consumer, { fresh: true });
    const stages = await Promise.all(this.ports.topology.stages.map((stage) => this.stagePin(consumer, files, stage)));
    return { files, stages };
  }
  async stagePin(consumer, files, stage) {
    const pin = effectivePin(stage, files);
    const versions = this.ports.catalog.versionsOf(stage.fqn);
    const latest = versions[0];
    const warnings = [];
    let behind = null;
    if (pin.version !== null) {
      const index = versions.findIndex((v) => v.version === pin.version);
      if (index >= 0) behind = index;
      else {
        const everSeen = this.ports.catalog.versionsOf(stage.fqn, { includeRemoved: true }).some((v) => v.version === pin.version);
        warnings.push(
          everSeen ? `${pin.version} is no longer in ${stage.publisher.name}'s publish dir: SMV runs against it will fail. Adopt a current version.` : `${pin.version} is not a complete published version of ${stage.displayName}.`
        );
      }
      const unsynced = await this.syncWarning(consumer, stage, pin.version, index >= 0);
      if (unsynced) warnings.push(unsynced);
    }
    return { stage, pin, latest, behind, warnings };
  }
  async syncWarning(consumer, stage, version, published) {
    if (!consumer.publishDir) return null;
    const opts = { stages: stage.publisher.stages, settleSeconds: 0 };
    const copy = await this.ports.inspectVersion(consumer.publishDir, version, opts);
    if (!published) return copy ? null : `${version} is not in ${consumer.name}'s publish dir either.`;
    const source = await this.ports.inspectVersion(stage.publisher.publishDir, version, opts);
    if (!source) return null;
    const problem = checkConsumerSync(source, copy, stage.fqn, consumer.publishDir, stage.publisher.publishDir);
    return problem ? `not synced: ${problem.message}` : null;
  }
};

// src/core/scanAndAnnounce.ts
var ScanAndAnnounce = class {
  constructor(ports) {
    this.ports = ports;
    this.now = ports.now ?? (() => /* @__PURE__ */ new Date());
  }
  ports;
  running = null;
  again = false;
  lastScanAt = null;
  scans = 0;
  now;
  /** Start a scan, or join the one running (and queue one more pass after it). */
  trigger() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }
  status() {
    let versions = 0;
    for (const p of Object.values(this.ports.state.data.publishers)) versions += Object.keys(p.versions).length;
    return { lastScanAt: this.lastScanAt, scans: this.scans, versions };
  }
  /** Resolves when no scan is running. */
  async idle() {
    while (this.running) await this.running.catch(() => void 0);
  }
  async loop() {
    let summary;
    do {
      this.again = false;
      summary = await this.scanOnce();
    } while (this.again);
    return summary;
  }
  async scanOnce() {
    const summary = { at: this.now().toISOString(), recorded: 0, announced: 0, failedPosts: 0, pending: [], problems: [] };
    await this.recoverInterruptedPosts();
    for (const publisher of this.ports.publishers) {
      const found = await this.scanPublisher(publisher);
      summary.recorded += found.recorded;
      summary.pending.push(...found.pending);
      summary.problems.push(...found.problems);
    }
    if (summary.recorded) this.ports.onVersionsChanged?.();
    const posted = await this.postPending();
    summary.announced = posted.announced;
    summary.failedPosts = posted.failed;
    if (!this.ports.state.data.initializedAt) {
      await this.ports.state.update((d) => {
        d.initializedAt = summary.at;
      });
    }
    this.lastScanAt = summary.at;
    this.scans++;
    return summary;
  }
  async scanPublisher(publisher) {
    const known = this.ports.state.data.publishers[publisher.name]?.versions ?? {};
    const firstSight = this.ports.state.data.publishers[publisher.name] === void 0;
    const result = await this.ports.scan(publisher.publishDir, {
      stages: publisher.stages,
      settleSeconds: publisher.settleSeconds,
      skip: new Set(Object.keys(known))
    });
    const completed = result.versions.filter((v) => v.complete && !known[v.version]);
    const present = new Set(result.present);
    const at = this.now().toISOString();
    const vanished = Object.values(known).filter((v) => !present.has(v.version) && !v.removedAt);
    const returned = Object.values(known).filter((v) => present.has(v.version) && v.removedAt);
    if (firstSight || completed.length || vanished.length || returned.length) {
      await this.ports.state.update((d) => {
        const versions = (d.publishers[publisher.name] ??= { versions: {} }).versions;
        for (const v of completed) versions[v.version] = toStoredVersion(v, publisher, firstSight ? "silent" : "pending", at);
        for (const v of vanished) versions[v.version].removedAt = at;
        for (const v of returned) delete versions[v.version].removedAt;
      });
      if (vanished.length || returned.length) this.ports.onVersionsChanged?.();
    }
    for (const v of completed) {
      this.ports.log?.info({ publisher: publisher.name, version: v.version, silent: firstSight }, "version complete");
    }
    return {
      recorded: completed.length,
      pending: result.versions.filter((v) => !v.complete).map((version) => ({ publisher: publisher.name, version })),
      problems: result.problems.map((p) => `${publisher.name}: ${p}`)
    };
  }
  /**
   * A post that was in flight when the process died may or may not have reached Slack.
   * Posting again could duplicate it, so it is marked failed and left for a person to check.
   */
  async recoverInterruptedPosts() {
    if (this.scans > 0) return;
    const interrupted = this.announcementsWhere((a) => a.status === "in_flight");
    if (!interrupted.length) return;
    const at = this.now().toISOString();
    await this.ports.state.update(() => {
      for (const { announcement } of interrupted) {
        announcement.status = "failed";
        announcement.lastError = "interrupted while posting (bot stopped); not re-posted to avoid a duplicate";
        announcement.updatedAt = at;
      }
    });
    for (const { publisher, version, channel } of interrupted) {
      this.ports.log?.warn({ publisher, version: version.version, channel }, "announcement was in flight at shutdown; not re-posting");
    }
  }
  async postPending() {
    let announced = 0;
    let failed = 0;
    for (const { publisher, version, channel, announcement } of this.announcementsWhere((a) => a.status === "pending")) {
      await this.ports.state.update(() => {
        announcement.status = "in_flight";
        announcement.attempts += 1;
        announcement.updatedAt = this.now().toISOString();
      });
      try {
        const { ts } = await this.ports.announce(channel, { publisher, version });
        await this.ports.state.update(() => {
          announcement.status = "posted";
          announcement.ts = ts;
          delete announcement.lastError;
          announcement.updatedAt = this.now().toISOString();
        });
        announced++;
      } catch (error2) {
        const reason = error2 instanceof Error ? error2.message : String(error2);
        await this.ports.state.update(() => {
          announcement.status = "pending";
          announcement.lastError = reason;
          announcement.updatedAt = this.now().toISOString();
        });
        this.ports.log?.warn({ publisher, version: version.version, channel, err: reason }, "announcement failed; will retry on next scan");
        failed++;
      }
    }
    return { announced, failed };
  }
  announcementsWhere(test) {
    const out = [];
    for (const [publisher, { versions }] of Object.entries(this.ports.state.data.publishers)) {
      for (const version of Object.values(versions)) {
        for (const [channel, announcement] of Object.entries(version.announcements)) {
          if (test(announcement)) out.push({ publisher, version, channel, announcement });
        }
      }
    }
    return out.sort((a, b) => a.version.completedAt < b.version.completedAt ? -1 : a.version.completedAt > b.version.completedAt ? 1 : 0);
  }
};
function toStoredVersion(v, publisher, status, at) {
  const announcements = {};
  for (const channel of publisher.channels) announcements[channel] = { status, attempts: 0, updatedAt: at };
  return {
    version: v.version,
    stages: v.stages,
    modules: v.modules.map((m) => ({ fqn: m.fqn, stage: m.stage, bytes: m.bytes })),
    bytes: v.bytes,
    completedAt: new Date(v.completedAtMs ?? Date.parse(at)).toISOString(),
    recordedAt: at,
    announcements
  };
}

// src/domain/stages.ts
function javaTrim(s) {
  return s.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "");
}
function parseStagesList(value) {
  const stages = [];
  for (const item of value.split(/[,:]/)) {
    const fqn = javaTrim(item);
    if (fqn !== "" && !stages.includes(fqn)) stages.push(fqn);
  }
  return stages;
}
function readStagesFromAppConf(text) {
  return parseStagesList(toMap(parseProps(text)).get("smv.stages") ?? "");
}
function toStage(fqn) {
  return { fqn, baseName: fqn.slice(fqn.lastIndexOf(".") + 1) };
}
function ambiguousBaseNames(stages) {
  const byBase = /* @__PURE__ */ new Map();
  for (const stage of stages) {
    const fqns = byBase.get(stage.baseName) ?? [];
    if (!fqns.includes(stage.fqn)) fqns.push(stage.fqn);
    byBase.set(stage.baseName, fqns);
  }
  for (const [base, fqns] of byBase) if (fqns.length < 2) byBase.delete(base);
  return byBase;
}
function stageLabels(stages) {
  const ambiguous = ambiguousBaseNames(stages);
  return stages.map((s) => ambiguous.has(s.baseName) ? s.fqn : s.baseName);
}
function resolveStage(input, stages) {
  const typed = input.trim();
  const labels = stageLabels(stages);
  const known = labels.length > 0 ? labels.join(", ") : "(none configured)";
  const example = labels[0] ?? "geo";
  if (typed === "") {
    return refuse("missing-stage", `Which stage? Type a stage base name or FQN, e.g. \`${example}\`. Known stages: ${known}.`);
  }
  const exact = stages.find((s) => s.fqn === typed);
  if (exact) return { ok: true, stage: exact };
  const byBase = stages.filter((s) => s.baseName === typed);
  const fqns = [...new Set(byBase.map((s) => s.fqn))];
  if (fqns.length === 1) return { ok: true, stage: byBase[0] };
  if (fqns.length > 1) {
    return refuse(
      "ambiguous-stage",
      `Stage \`${typed}\` is ambiguous: it is the base name of ${fqns.map((f) => `\`${f}\``).join(", ")}. Type one of those FQNs instead, e.g. \`${fqns[0]}\`.`
    );
  }
  if (stages.length === 0) {
    return refuse(
      "unknown-stage",
      `Unknown stage \`${typed}\`: no stages are configured. List them in the publisher's \`stages\` in smvbot.yml or in \`smv.stages\` of its app conf.`
    );
  }
  return refuse(
    "unknown-stage",
    `Unknown stage \`${typed}\`. Known stages: ${known}. Type one of them (base name or FQN), e.g. \`${example}\`.`
  );
}

// src/core/topology.ts
var Topology = class {
  constructor(publishers, consumers, admins) {
    this.publishers = publishers;
    this.consumers = consumers;
    this.admins = admins;
    const plain = publishers.flatMap((p) => p.stages.map((fqn) => ({ fqn, publisher: p })));
    const ambiguous = ambiguousBaseNames(plain.map((s) => toStage(s.fqn)));
    this.stages = plain.map(({ fqn, publisher }) => {
      const stage = toStage(fqn);
      return { ...stage, publisher, displayName: ambiguous.has(stage.baseName) ? stage.fqn : stage.baseName };
    }).sort((a, b) => a.displayName.localeCompare(b.displayName));
    for (const s of this.stages) this.byFqn.set(s.fqn, s);
  }
  publishers;
  consumers;
  admins;
  stages;
  byFqn = /* @__PURE__ */ new Map();
  stage(fqn) {
    return this.byFqn.get(fqn);
  }
  /** What a user typed (`geo` or `com.acme.geo`) to one stage, or a refusal listing candidates. */
  resolveStage(input) {
    const resolved = resolveStage(input, this.stages);
    if (!resolved.ok) return resolved;
    return { ok: true, stage: this.byFqn.get(resolved.stage.fqn) };
  }
  consumer(name) {
    return this.consumers.find((c) => c.name === name);
  }
  /**
   * SPEC §4: explicit argument, else the one consumer bound to the channel,
   * else the only consumer configured, else a refusal listing the choices.
   */
  resolveConsumer(explicit, channelId) {
    const names = this.consumers.map((c) => c.name);
    if (explicit !== void 0) {
      const found = this.consumer(explicit);
      if (found) return { ok: true, consumer: found };
      return refuse(
        "unknown-consumer",
        names.length ? `There is no consumer called \`${explicit}\`. Known consumers: ${names.map((n) => `\`${n}\``).join(", ")}.` : `There is no consumer called \`${explicit}\`: no consumers are configured in smvbot.yml.`
      );
    }
    const bound = channelId ? this.consumers.filter((c) => c.channels.includes(channelId)) : [];
    if (bound.length === 1) return { ok: true, consumer: bound[0] };
    const candidates = bound.length > 1 ? bound.map((c) => c.name) : names;
    if (bound.length === 0 && this.consumers.length === 1) return { ok: true, consumer: this.consumers[0] };
    if (candidates.length === 0) {
      return refuse("no-consumers", "No consumers are configured. Add one under `consumers:` in smvbot.yml.");
    }
    return refuse(
      "which-consumer",
      `Which consumer? ${bound.length > 1 ? "This channel is bound to several" : "This channel is not bound to one"}: ${candidates.map((n) => `\`${n}\``).join(", ")}. Add the consumer name at the end, e.g. \`\u2026 ${candidates[0]}\`.`
    );
  }
  /** Consumers bound to a channel (for the Adopt button). */
  consumersForChannel(channelId) {
    return this.consumers.filter((c) => c.channels.includes(channelId));
  }
  mayAdopt(consumer, userId) {
    return this.admins.includes(userId) || consumer.adopters.includes("*") || consumer.adopters.includes(userId);
  }
};

// src/core/keyedQueue.ts
var KeyedQueue = class {
  tails = /* @__PURE__ */ new Map();
  run(key, task) {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => void 0,
      () => void 0
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
  /** Resolves when everything queued so far has settled (used on shutdown). */
  async drain() {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }
};

// src/core/workspaces.ts
var ConsumerWorkspaces = class {
  constructor(repoFor) {
    this.repoFor = repoFor;
  }
  repoFor;
  queue = new KeyedQueue();
  use(consumer, task) {
    return this.queue.run(consumer.name, () => task(this.repoFor(consumer)));
  }
  /** Resolves when queued work has finished (graceful shutdown). */
  drain() {
    return this.queue.drain();
  }
};

// src/infra/gitRunner.ts
import { execFile } from "node:child_process";
var GitError = class extends Error {
  constructor(args, exitCode, stderr, timedOut) {
    super(`git ${subcommandOf(args)} failed: ${gistOf(stderr, timedOut)}`);
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.timedOut = timedOut;
    this.name = "GitError";
  }
  args;
  exitCode;
  stderr;
  timedOut;
  /** One or two lines a user can act on, without credentials embedded in URLs. */
  get gist() {
    return gistOf(this.stderr, this.timedOut);
  }
};
var DEFAULT_TIMEOUT_MS = 6e4;
var GIT_PASSTHROUGH_ENV = [
  "PATH",
  "HOME",
  "SSH_AUTH_SOCK",
  "GIT_SSH",
  "GIT_SSH_COMMAND",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "TMPDIR"
];
function createGitRunner(baseEnv, defaults = {}) {
  const env = {};
  for (const name of GIT_PASSTHROUGH_ENV) {
    const value = baseEnv[name];
    if (value !== void 0) env[name] = value;
  }
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: "0",
    // No credential prompts through GUI helpers either.
    GIT_ASKPASS: "echo",
    SSH_ASKPASS: "echo",
    GIT_SSH_COMMAND: env.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes",
    // Stable, parseable messages whatever the host locale.
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1"
  });
  return {
    run(args, opts) {
      const timeout = opts.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      return new Promise((resolve, reject) => {
        const child = execFile(
          "git",
          args,
          { cwd: opts.cwd, env: { ...env, ...opts.env }, timeout, killSignal: "SIGKILL", maxBuffer: 32 * 1024 * 1024 },
          (error2, stdout, stderr) => {
            if (!error2) return resolve({ stdout, stderr });
            const code = typeof error2.code === "number" ? error2.code : null;
            const timedOut = error2.killed === true || error2.signal === "SIGKILL";
            reject(new GitError(args, code, stderr || error2.message, timedOut));
          }
        );
        child.stdin?.on("error", () => void 0);
        child.stdin?.end(opts.input ?? "");
      });
    }
  };
}
function subcommandOf(args) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-c" || arg === "-C" || arg === "--git-dir") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return args[0] ?? "";
}
function redactUrlCredentials(text) {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
}
function gistOf(stderr, timedOut) {
  if (timedOut) return "git timed out (is the remote reachable?)";
  const lines = redactUrlCredentials(stderr).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("hint:") && !/^To\s/.test(l));
  const important = lines.filter((l) => /^(fatal|error|remote|!)/.test(l) || /rejected|denied|not found/i.test(l));
  const picked = (important.length ? important : lines).slice(0, 3).join(" / ");
  return picked.length > 300 ? picked.slice(0, 297) + "..." : picked || "unknown git error";
}

// src/infra/config.ts
import { existsSync, readFileSync, statSync } from "node:fs";
import path2 from "node:path";
import { parseEnv } from "node:util";
import { validate as isValidCron, validateDetailed as explainCron } from "node-cron";
import { parseDocument } from "yaml";
import { z } from "zod";
var CONFIG_EXIT_CODE = 2;
var DEFAULT_SCAN_SCHEDULE = "*/1 * * * *";
var DEFAULT_CONF_PATH = "conf/smv-user-conf.props";
function formatConfigProblems(problems) {
  const count = problems.length === 1 ? "1 configuration problem" : `${problems.length} configuration problems`;
  return [
    `smvbot cannot start: ${count} to fix.`,
    ...problems.map((p) => `  - ${p}`),
    "Environment variables are explained in .env.example and the topology file in smvbot.example.yml. Fix the above and start smvbot again."
  ].join("\n");
}
function loadConfig(options = {}) {
  const cwd = path2.resolve(options.cwd ?? process.cwd());
  const problems = [];
  const env = withDotEnv(options.env ?? process.env, cwd, problems);
  const settings = readEnvSettings(env, cwd, options.requireSlack ?? true, problems);
  const topology = readTopology(settings.configPath, cwd, problems);
  if (problems.length > 0 || topology === null) return { ok: false, problems };
  return { ok: true, config: { ...settings, ...topology } };
}
function withDotEnv(realEnv, cwd, problems) {
  const merged = {};
  const dotEnvFile = path2.join(cwd, ".env");
  if (existsSync(dotEnvFile)) {
    try {
      Object.assign(merged, nonEmpty(parseEnv(readFileSync(dotEnvFile, "utf8"))));
    } catch (err) {
      problems.push(`${dotEnvFile}: cannot be read (${err.code ?? "error"}); fix its permissions or remove it.`);
    }
  }
  Object.assign(merged, nonEmpty(realEnv));
  return merged;
}
function nonEmpty(vars) {
  const out = {};
  for (const [key, value] of Object.entries(vars)) {
    const trimmed = value?.trim();
    if (trimmed) out[key] = trimmed;
  }
  return out;
}
var LOG_LEVEL_VALUES = ["debug", "info", "warn", "error"];
function readEnvSettings(env, cwd, requireSlack, problems) {
  const botToken = env["SLACK_BOT_TOKEN"];
  const signingSecret = env["SLACK_SIGNING_SECRET"];
  const appToken = env["SLACK_APP_TOKEN"];
  if (botToken === void 0) {
    if (requireSlack) {
      problems.push(
        'SLACK_BOT_TOKEN is not set, so smvbot cannot talk to Slack. To connect it: copy .env.example to .env, fill in SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README "Installing the Slack app"), and start again. To try smvbot without a Slack account, run `npm run demo`.'
      );
    }
  } else if (!botToken.startsWith("xoxb-")) {
    problems.push(
      `SLACK_BOT_TOKEN does not look like a bot token: it must start with xoxb-. Copy the "Bot User OAuth Token" from your Slack app's OAuth & Permissions page.`
    );
  }
  if (appToken !== void 0 && !appToken.startsWith("xapp-")) {
    problems.push(
      "SLACK_APP_TOKEN does not look like an app-level token: it must start with xapp-. Create one with the connections:write scope under Basic Information \u2192 App-Level Tokens, or leave SLACK_APP_TOKEN unset to receive requests over HTTP."
    );
  }
  if (requireSlack && botToken !== void 0 && appToken === void 0 && signingSecret === void 0) {
    problems.push(
      "SLACK_SIGNING_SECRET is not set. Without SLACK_APP_TOKEN smvbot receives requests over HTTP and must verify them: copy the Signing Secret from your Slack app's Basic Information page into .env (or set SLACK_APP_TOKEN to use Socket Mode)."
    );
  }
  const apiUrl = readApiUrl(env["SLACK_API_URL"], problems);
  const port = readPort(env["PORT"], problems);
  const logLevelText = (env["LOG_LEVEL"] ?? "info").toLowerCase();
  const logLevel = LOG_LEVEL_VALUES.find((l) => l === logLevelText);
  if (!logLevel) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVEL_VALUES.join(", ")} (got "${env["LOG_LEVEL"]}").`);
  }
  const dataDir = path2.resolve(cwd, env["SMVBOT_DATA_DIR"] ?? "./data");
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
    problems.push(`SMVBOT_DATA_DIR: ${dataDir} exists but is not a directory; point SMVBOT_DATA_DIR at a directory.`);
  }
  return {
    slack: {
      ...botToken !== void 0 && { botToken },
      ...signingSecret !== void 0 && { signingSecret },
      ...appToken !== void 0 && { appToken },
      apiUrl,
      port
    },
    configPath: path2.resolve(cwd, env["SMVBOT_CONFIG"] ?? "./smvbot.yml"),
    dataDir,
    git: {
      name: env["SMVBOT_GIT_NAME"] ?? "smvbot",
      email: env["SMVBOT_GIT_EMAIL"] ?? "smvbot@localhost",
      // Only what git needs to reach remotes (PATH, HOME for ssh keys, agent, proxies).
      env: Object.fromEntries(GIT_PASSTHROUGH_ENV.flatMap((name) => env[name] === void 0 ? [] : [[name, env[name]]]))
    },
    logLevel: logLevel ?? "info"
  };
}
function readApiUrl(value, problems) {
  const fallback = "https://slack.com/api/";
  if (value === void 0) return fallback;
  let url;
  try {
    url = new URL(value);
  } catch {
    problems.push(`SLACK_API_URL is not a URL (got "${value}"); leave it unset for ${fallback}.`);
    return fallback;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    problems.push(`SLACK_API_URL must be an http(s) URL (got "${value}"); leave it unset for ${fallback}.`);
    return fallback;
  }
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}
function readPort(value, problems) {
  if (value === void 0) return 3e3;
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    problems.push(`PORT must be a port number from 0 to 65535 (got "${value}").`);
    return 3e3;
  }
  return port;
}
var CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
var USER_ID = /^[UW][A-Z0-9]{2,}$/;
var NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
var STAGE_FQN = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
var nameSchema = z.string().regex(NAME, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a usable name: use letters, digits, ".", "_" or "-" (it is typed in commands)`
});
var channelIdSchema = z.string().regex(CHANNEL_ID, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a Slack channel id (like C0123ABCD); copy the Channel ID from the bottom of the channel's About tab`
});
var userIdSchema = z.string().regex(USER_ID, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a Slack user id (like U0123ABCD); copy it from the person's profile (\u22EE \u2192 Copy member ID)`
});
var adopterSchema = z.string().refine((s) => s === "*" || USER_ID.test(s), {
  error: (iss) => `${JSON.stringify(iss.input)} is not a Slack user id (like U0123ABCD) or "*" (anyone); copy ids from people's profiles (\u22EE \u2192 Copy member ID)`
});
var pathSchema = z.string().min(1, { error: "must not be empty" });
var cronSchema = z.string().refine(isValidCron, {
  error: (iss) => {
    const why = explainCron(String(iss.input)).errors.map((e) => e.message).join("; ");
    return `${JSON.stringify(iss.input)} is not a valid cron expression${why ? ` (${why})` : ""}; use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. "${DEFAULT_SCAN_SCHEDULE}"`;
  }
});
var branchSchema = z.string().refine(isUsableBranchName, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a valid git branch name`
});
var confPathSchema = z.string().refine(isInsideRepo, {
  error: (iss) => `${JSON.stringify(iss.input)} must be a relative path inside the repo, e.g. "${DEFAULT_CONF_PATH}"`
});
var stageFqnSchema = z.string().regex(STAGE_FQN, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a stage FQN (a package name like com.acme.geo)`
});
var scanSchema = z.strictObject({ schedule: cronSchema.default(DEFAULT_SCAN_SCHEDULE) });
var publisherSchema = z.strictObject({
  name: nameSchema,
  publishDir: pathSchema,
  appConf: pathSchema.optional(),
  stages: z.array(stageFqnSchema).optional(),
  channels: z.array(channelIdSchema),
  settleSeconds: z.number().int().min(0).default(30)
});
var consumerSchema = z.strictObject({
  name: nameSchema,
  repo: z.string().trim().min(1, {
    error: "must not be empty: give a git URL (git@host:team/repo.git, ssh://\u2026, https://\u2026, file://\u2026) or a local path"
  }),
  branch: branchSchema.default("main"),
  confPath: confPathSchema.default(DEFAULT_CONF_PATH),
  publishDir: pathSchema.optional(),
  channels: z.array(channelIdSchema).default([]),
  adopters: z.array(adopterSchema).default([]),
  mode: z.enum(["push", "branch"]).default("push")
});
var topSchema = z.strictObject({
  scan: scanSchema.default({ schedule: DEFAULT_SCAN_SCHEDULE }),
  publishers: z.array(z.unknown()).min(1, { error: "at least one publisher is needed" }),
  consumers: z.array(z.unknown()).default([]),
  admins: z.array(userIdSchema).default([])
});
var ALLOWED_KEYS = {
  top: Object.keys(topSchema.shape),
  scan: Object.keys(scanSchema.shape),
  publisher: Object.keys(publisherSchema.shape),
  consumer: Object.keys(consumerSchema.shape)
};
function readTopology(configPath, cwd, problems) {
  const shown = displayPath(configPath, cwd);
  const report = (where, what) => problems.push(`${shown}: ${where ? `${where}: ` : ""}${what}`);
  let text;
  try {
    text = readFileSync(configPath, "utf8");
  } catch (err) {
    const code = err.code;
    problems.push(
      code === "ENOENT" ? `The topology file ${configPath} does not exist. Copy smvbot.example.yml to ${shown} and edit it, or set SMVBOT_CONFIG to the path of your topology file.` : `The topology file ${configPath} cannot be read (${code ?? "error"}); check that it is a readable file.`
    );
    return null;
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    for (const error2 of doc.errors) report("", `invalid YAML: ${error2.message.split("\n")[0]}`);
    return null;
  }
  const raw = withoutNulls(doc.toJS()) ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    report("", `must be a mapping with the keys ${ALLOWED_KEYS.top.join(", ")}; see smvbot.example.yml`);
    return null;
  }
  const baseDir = path2.dirname(configPath);
  const top = topSchema.safeParse(raw, { reportInput: true });
  if (!top.success) {
    for (const issue of top.error.issues) reportIssue(issue, [], "top", report);
  }
  const rawTop = raw;
  const publisherItems = top.success ? top.data.publishers : arrayOrEmpty(rawTop["publishers"]);
  const consumerItems = top.success ? top.data.consumers : arrayOrEmpty(rawTop["consumers"]);
  const publishers = [];
  const consumers = [];
  let itemsOk = true;
  publisherItems.forEach((item, i) => {
    const where = `publishers[${i}]`;
    const parsed = publisherSchema.safeParse(item, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) reportIssue(issue, [where], "publisher", report);
      itemsOk = false;
      return;
    }
    const resolved = resolvePublisher(parsed.data, baseDir, where, report);
    publishers.push(resolved.publisher);
    itemsOk &&= resolved.ok;
  });
  consumerItems.forEach((item, i) => {
    const where = `consumers[${i}]`;
    const parsed = consumerSchema.safeParse(item, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) reportIssue(issue, [where], "consumer", report);
      itemsOk = false;
      return;
    }
    const resolved = resolveConsumer(parsed.data, baseDir, where, report);
    consumers.push(resolved.consumer);
    itemsOk &&= resolved.ok;
  });
  const duplicatesOk = [
    reportDuplicates("publisher", namesOf(publisherItems), report),
    reportDuplicates("consumer", namesOf(consumerItems), report),
    reportSharedStages(publishers, report)
  ].every(Boolean);
  if (!top.success || !itemsOk || !duplicatesOk) return null;
  return { scan: top.data.scan, publishers, consumers, admins: top.data.admins };
}
function resolvePublisher(p, baseDir, where, report) {
  let ok = true;
  const publishDir = path2.resolve(baseDir, p.publishDir);
  const dirProblem = checkPath(publishDir, "directory");
  if (dirProblem) {
    report(`${where}.publishDir`, dirProblem);
    ok = false;
  }
  const stages = [...p.stages ?? []];
  let appConf;
  if (p.appConf !== void 0) {
    appConf = path2.resolve(baseDir, p.appConf);
    const fileProblem = checkPath(appConf, "file");
    if (fileProblem) {
      report(`${where}.appConf`, fileProblem);
      ok = false;
    } else {
      try {
        stages.push(...readStagesFromAppConf(readFileSync(appConf, "utf8")));
      } catch (err) {
        report(`${where}.appConf`, `${appConf} cannot be read as SMV app conf: ${err.message}`);
        ok = false;
      }
    }
  }
  const uniqueStages = [...new Set(stages)];
  if (ok && uniqueStages.length === 0) {
    report(
      where,
      p.appConf === void 0 ? "has no stages: list them under `stages:` (e.g. [com.acme.geo]) or set `appConf:` to the SMV app conf that defines smv.stages" : `has no stages: ${appConf} defines no smv.stages; list them under \`stages:\` or fix smv.stages in that file`
    );
    ok = false;
  }
  const publisher = {
    name: p.name,
    publishDir,
    ...appConf !== void 0 && { appConf },
    stages: uniqueStages,
    channels: p.channels,
    settleSeconds: p.settleSeconds
  };
  return { publisher, ok };
}
function resolveConsumer(c, baseDir, where, report) {
  let ok = true;
  let repo = c.repo;
  if (!isGitUrl(repo)) {
    repo = path2.resolve(baseDir, repo);
    const repoProblem = checkPath(repo, "directory");
    if (repoProblem) {
      report(
        `${where}.repo`,
        `${repoProblem.split(";")[0]}; give the path of a local git repository (relative to the topology file's folder) or a git URL (git@host:team/repo.git, ssh://\u2026, https://\u2026, file://\u2026)`
      );
      ok = false;
    }
  }
  let publishDir;
  if (c.publishDir !== void 0) {
    publishDir = path2.resolve(baseDir, c.publishDir);
    const dirProblem = checkPath(publishDir, "directory");
    if (dirProblem) {
      report(`${where}.publishDir`, dirProblem);
      ok = false;
    }
  }
  const consumer = {
    name: c.name,
    repo,
    branch: c.branch,
    confPath: path2.posix.normalize(c.confPath.replaceAll("\\", "/")),
    ...publishDir !== void 0 && { publishDir },
    channels: c.channels,
    adopters: c.adopters,
    mode: c.mode
  };
  return { consumer, ok };
}
function reportDuplicates(kind, names, report) {
  const counts = /* @__PURE__ */ new Map();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([name]) => name);
  for (const name of repeated) {
    report(`${kind}s`, `the ${kind} name "${name}" is used more than once; give each ${kind} its own name`);
  }
  return repeated.length === 0;
}
function reportSharedStages(publishers, report) {
  const owners = /* @__PURE__ */ new Map();
  for (const p of publishers) for (const s of p.stages) owners.set(s, [...owners.get(s) ?? [], p.name]);
  let ok = true;
  for (const [stage, names] of owners) {
    if (names.length > 1) {
      report("publishers", `stage ${stage} belongs to more than one publisher (${names.join(", ")}); each stage must have exactly one publisher`);
      ok = false;
    }
  }
  return ok;
}
function reportIssue(issue, prefix, scope, report) {
  const where = formatPath(prefix, issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowedScope = issue.path.length === 0 ? scope : String(issue.path[issue.path.length - 1]);
      const allowed = ALLOWED_KEYS[allowedScope] ?? [];
      for (const key of issue.keys) {
        const suggestion2 = closest(key, allowed);
        report(
          joinPath(where, key),
          `unknown key${suggestion2 ? ` (did you mean ${suggestion2}?)` : ""}; allowed keys here: ${allowed.join(", ")}`
        );
      }
      return;
    }
    case "invalid_type":
      report(where, issue.input === void 0 ? "is required but missing" : `must be ${article(issue.expected)}, not ${describeValue(issue.input)}`);
      return;
    case "invalid_value":
      report(where, `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")} (got ${describeValue(issue.input)})`);
      return;
    case "too_small":
      report(where, issue.origin === "number" ? `must be at least ${issue.minimum} (got ${describeValue(issue.input)})` : issue.message);
      return;
    default:
      report(where, issue.message);
  }
}
function formatPath(prefix, issuePath) {
  let out = prefix.join(".");
  for (const part of issuePath) out = typeof part === "number" ? `${out}[${part}]` : joinPath(out, String(part));
  return out;
}
function joinPath(base, key) {
  return base ? `${base}.${key}` : key;
}
function article(expected) {
  const words = {
    string: "text",
    number: "a number",
    int: "a whole number",
    array: "a list",
    object: "a mapping",
    boolean: "true or false"
  };
  return words[expected] ?? expected;
}
function describeValue(value) {
  if (value === void 0 || value === null) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `text ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
function closest(key, candidates) {
  let best;
  for (const name of candidates) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance <= 3 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}
function editDistance(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
function checkPath(absolute, kind) {
  let isDir;
  try {
    isDir = statSync(absolute).isDirectory();
  } catch (err) {
    const code = err.code;
    return code === "ENOENT" ? `${absolute} does not exist; create it or fix the path (relative paths are resolved against the folder of the topology file)` : `${absolute} cannot be accessed (${code ?? "error"})`;
  }
  if (kind === "directory" && !isDir) return `${absolute} is not a directory`;
  if (kind === "file" && isDir) return `${absolute} is a directory, expected a file`;
  return null;
}
function isGitUrl(repo) {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(repo)) return true;
  const colon = repo.indexOf(":");
  const slash = repo.indexOf("/");
  return colon > 0 && (slash === -1 || colon < slash);
}
function isUsableBranchName(name) {
  return name.length > 0 && !name.startsWith("-") && !name.startsWith("/") && !name.endsWith("/") && !name.endsWith(".") && !name.endsWith(".lock") && !name.includes("..") && !name.includes("@{") && !name.includes("//") && !/[\s~^:?*[\\\x00-\x1f\x7f]/.test(name);
}
function isInsideRepo(confPath) {
  const normalized = path2.posix.normalize(confPath.replaceAll("\\", "/"));
  return confPath.length > 0 && !path2.isAbsolute(confPath) && !/^[A-Za-z]:/.test(confPath) && normalized !== "." && normalized !== ".." && !normalized.startsWith("../") && !normalized.endsWith("/");
}
function namesOf(items) {
  return items.flatMap((item) => {
    const name = item?.name;
    return typeof name === "string" ? [name] : [];
  });
}
function arrayOrEmpty(value) {
  return Array.isArray(value) ? value : [];
}
function withoutNulls(value) {
  if (Array.isArray(value)) return value.map((v) => v !== null && typeof v === "object" ? withoutNulls(v) : v);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) if (v !== null) out[key] = withoutNulls(v);
  return out;
}
function displayPath(absolute, cwd) {
  const relative = path2.relative(cwd, absolute);
  return relative && !relative.startsWith("..") && !path2.isAbsolute(relative) ? relative : absolute;
}

// src/infra/consumerRepo.ts
import { isUtf8 } from "node:buffer";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path3 from "node:path";
var CLONE_CONFIG = ["-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", "-c", "gc.autoDetach=false"];
var ConsumerRepo = class {
  constructor(git, dir, remote, branch) {
    this.git = git;
    this.dir = dir;
    this.remote = remote;
    this.branch = branch;
  }
  git;
  dir;
  remote;
  branch;
  /** How each file was decoded when read, so commitFile writes its untouched bytes back identically. */
  encodings = /* @__PURE__ */ new Map();
  /** Clone (first time) or fetch, then make the work tree exactly `origin/<branch>`. */
  async resetToRemote() {
    try {
      await this.resetOnce();
    } catch (error2) {
      if (!(error2 instanceof GitError && /\.lock'?: File exists/i.test(error2.stderr))) throw error2;
      await rm(this.dir, { recursive: true, force: true });
      await this.resetOnce();
    }
  }
  async resetOnce() {
    await this.ensureClone();
    await this.fetch();
    await this.run(["checkout", "-q", "-f", "-B", this.branch, this.remoteRef]);
    await this.run(["clean", "-q", "-f", "-d", "-x"]);
  }
  async fetch() {
    try {
      await this.run(["fetch", "-q", "--no-tags", "origin", `+refs/heads/${this.branch}:${this.remoteRef}`]);
    } catch (error2) {
      if (error2 instanceof GitError && /couldn't find remote ref/i.test(error2.stderr)) {
        throw new GitError(error2.args, error2.exitCode, `fatal: branch '${this.branch}' does not exist on the remote`, false);
      }
      throw error2;
    }
  }
  /**
   * Text of a work-tree file, or null when it does not exist. A file that is not valid UTF-8
   * is read as ISO-8859-1, as `java.util.Properties.load(InputStream)` does; either way every
   * byte survives the round trip through commitFile.
   */
  async readFile(relPath) {
    this.encodings.delete(relPath);
    try {
      const bytes = await readFile(this.abs(relPath));
      const encoding = isUtf8(bytes) ? "utf8" : "latin1";
      this.encodings.set(relPath, encoding);
      return bytes.toString(encoding);
    } catch (error2) {
      if (error2.code === "ENOENT") return null;
      throw error2;
    }
  }
  /** True when git would not pick the path up: ignored by .gitignore and not already tracked. */
  async isIgnored(relPath) {
    const tracked = await this.succeeds(["ls-files", "--error-unmatch", "--", relPath]);
    if (tracked) return false;
    return this.succeeds(["check-ignore", "-q", "--", relPath]);
  }
  /** Write the file and commit it; returns the new commit's full sha. */
  async commitFile(relPath, text, commit) {
    const file = this.abs(relPath);
    await mkdir(path3.dirname(file), { recursive: true });
    const read = this.encodings.get(relPath);
    const encoding = read === "latin1" && !/[^\u0000-\u00ff]/.test(text) ? "latin1" : "utf8";
    await writeFile(file, text, encoding);
    await this.run(["add", "--", relPath]);
    await this.run(["commit", "-q", "--no-verify", "-F", "-"], {
      input: commit.message,
      env: {
        GIT_AUTHOR_NAME: commit.author.name,
        GIT_AUTHOR_EMAIL: commit.author.email,
        GIT_COMMITTER_NAME: commit.committer.name,
        GIT_COMMITTER_EMAIL: commit.committer.email
      }
    });
    return this.headSha();
  }
  async headSha() {
    return (await this.run(["rev-parse", "HEAD"])).trim();
  }
  /**
   * Push HEAD to `refs/heads/<target>`. A rejection because the remote moved is an outcome
   * (the caller re-applies on the new tip); anything else is an error.
   */
  async push(target, opts = {}) {
    const refspec = `${opts.force ? "+" : ""}HEAD:refs/heads/${target}`;
    try {
      await this.run(["push", "-q", "origin", refspec]);
      return { pushed: true };
    } catch (error2) {
      if (error2 instanceof GitError && isRemoteMoved(error2)) return { pushed: false, reason: "remote-moved" };
      throw error2;
    }
  }
  get remoteRef() {
    return `refs/remotes/origin/${this.branch}`;
  }
  async ensureClone() {
    const hasGitDir = await stat(path3.join(this.dir, ".git")).then(
      () => true,
      () => false
    );
    if (!hasGitDir) {
      await rm(this.dir, { recursive: true, force: true });
      await mkdir(this.dir, { recursive: true });
      await this.run(["init", "-q"]);
    }
    await this.run(["config", "remote.origin.url", this.remote]);
  }
  abs(relPath) {
    const file = path3.resolve(this.dir, relPath);
    if (!file.startsWith(this.dir + path3.sep)) throw new Error(`path ${relPath} escapes the repository`);
    return file;
  }
  async run(args, extra = {}) {
    return (await this.git.run([...CLONE_CONFIG, ...args], { cwd: this.dir, ...extra })).stdout;
  }
  async succeeds(args) {
    try {
      await this.run(args);
      return true;
    } catch (error2) {
      if (error2 instanceof GitError && error2.exitCode === 1) return false;
      throw error2;
    }
  }
};
function isRemoteMoved(error2) {
  return /!\s+\[rejected\]/.test(error2.stderr);
}

// src/infra/dataDirLock.ts
import { readFileSync as readFileSync2, unlinkSync } from "node:fs";
import { link, mkdir as mkdir2, readFile as readFile2, unlink, writeFile as writeFile2 } from "node:fs/promises";
import path4 from "node:path";
var LOCK_FILE_NAME = "smvbot.lock";
var DataDirLockedError = class extends Error {
  constructor(dataDir, lockFile, holderPid, holderStartedAt) {
    super(
      `Another smvbot (pid ${holderPid}${holderStartedAt ? `, started ${holderStartedAt}` : ""}) is using the data dir ${dataDir}. Stop that process first, or give this one its own data dir with SMVBOT_DATA_DIR. If no such smvbot is running, delete ${lockFile} and start again.`
    );
    this.dataDir = dataDir;
    this.lockFile = lockFile;
    this.holderPid = holderPid;
    this.holderStartedAt = holderStartedAt;
    this.name = "DataDirLockedError";
  }
  dataDir;
  lockFile;
  holderPid;
  holderStartedAt;
  code = "data-dir-locked";
};
var heldByThisProcess = /* @__PURE__ */ new Set();
async function acquireDataDirLock(dataDir, options = {}) {
  const resolvedDir = path4.resolve(dataDir);
  await mkdir2(resolvedDir, { recursive: true });
  const lockFile = path4.join(resolvedDir, LOCK_FILE_NAME);
  const mine = { pid: process.pid, startedAt: (/* @__PURE__ */ new Date()).toISOString() };
  if (heldByThisProcess.has(lockFile)) {
    throw new DataDirLockedError(resolvedDir, lockFile, process.pid, null);
  }
  let tookOverFrom = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await createExclusively(lockFile, mine)) {
      heldByThisProcess.add(lockFile);
      return makeLock(lockFile, mine, tookOverFrom);
    }
    const holder2 = await readHolder(lockFile);
    if (holder2 === "gone") continue;
    if (holder2 !== null && holder2.pid !== process.pid && isAlive(holder2.pid)) {
      throw new DataDirLockedError(resolvedDir, lockFile, holder2.pid, holder2.startedAt);
    }
    tookOverFrom = { pid: holder2?.pid ?? 0, startedAt: holder2?.startedAt ?? null };
    options.onWarning?.(
      holder2 === null ? `Taking over unreadable lock file ${lockFile}.` : `Taking over stale lock ${lockFile} left by pid ${holder2.pid}, which is no longer running.`
    );
    await removeIfUnchanged(lockFile, holder2);
  }
  const holder = await readHolder(lockFile);
  const pid = holder !== null && holder !== "gone" ? holder.pid : 0;
  throw new DataDirLockedError(resolvedDir, lockFile, pid, null);
}
async function createExclusively(lockFile, content) {
  const temp = `${lockFile}.${process.pid}.${Date.now()}.tmp`;
  await writeFile2(temp, JSON.stringify(content) + "\n", { flag: "wx" });
  try {
    await link(temp, lockFile);
    return true;
  } catch (err) {
    if (err.code === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => void 0);
  }
}
async function removeIfUnchanged(lockFile, seen) {
  const now = await readHolder(lockFile);
  if (now === "gone") return;
  const same = now === null ? seen === null : seen !== null && now.pid === seen.pid && now.startedAt === seen.startedAt;
  if (!same) return;
  await unlink(lockFile).catch((e) => {
    if (e.code !== "ENOENT") throw e;
  });
}
function makeLock(lockFile, mine, tookOverFrom) {
  let released = false;
  const mineText = JSON.stringify(mine) + "\n";
  const releaseOnExit = () => {
    try {
      if (readFileSync2(lockFile, "utf8") === mineText) unlinkSync(lockFile);
    } catch {
    }
  };
  process.once("exit", releaseOnExit);
  return {
    lockFile,
    tookOverFrom,
    async release() {
      if (released) return;
      released = true;
      heldByThisProcess.delete(lockFile);
      process.off("exit", releaseOnExit);
      const holder = await readHolder(lockFile);
      if (holder !== null && holder !== "gone" && holder.pid === mine.pid && holder.startedAt === mine.startedAt) {
        await unlink(lockFile).catch(() => void 0);
      }
    }
  };
}
async function readHolder(lockFile) {
  let text;
  try {
    text = await readFile2(lockFile, "utf8");
  } catch (err) {
    if (err.code === "ENOENT") return "gone";
    throw err;
  }
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed.pid === "number" && Number.isInteger(parsed.pid) && parsed.pid > 0) {
      return { pid: parsed.pid, startedAt: typeof parsed.startedAt === "string" ? parsed.startedAt : null };
    }
  } catch {
  }
  return null;
}
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

// src/infra/logger.ts
import { pino } from "pino";
var REDACTED = "[redacted]";
var SECRET_FIELDS = [
  "token",
  "botToken",
  "appToken",
  "signingSecret",
  "secret",
  "password",
  "authorization"
];
var REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  "headers.authorization",
  "req.headers.authorization",
  "*.headers.authorization"
];
function createLogger(options) {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: REDACTED }
    },
    options.destination ?? pino.destination(1)
  );
}
var SLACK_TOKEN_PATTERN = /\b(?:xox[abeprs](?:\.[A-Za-z0-9]+)?|xapp)-[A-Za-z0-9-]+/g;
function scrubSecrets(text, secrets = []) {
  let scrubbed = text;
  const values = secrets.filter((s) => typeof s === "string" && s.length > 0).sort((a, b) => b.length - a.length);
  for (const value of values) scrubbed = scrubbed.split(value).join(REDACTED);
  return scrubbed.replace(SLACK_TOKEN_PATTERN, REDACTED);
}

// src/infra/publishScanner.ts
import fs from "node:fs";
import path5 from "node:path";
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

// src/domain/publishLayout.ts
function moduleStage(fqn, stageFqns) {
  let best = null;
  for (const stage of stageFqns) {
    if (fqn.startsWith(stage + ".") && (best === null || stage.length > best.length)) best = stage;
  }
  return best;
}
function parseEntryName(name) {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return null;
  const ext = name.slice(dot + 1);
  if (!OUTPUT_EXTS.includes(ext)) return null;
  return { fqn: name.slice(0, dot), ext };
}
function isHiddenName(name) {
  return name.startsWith(".") || name.startsWith("_");
}
function parseMetaColumns(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { error: `is not valid JSON (${err.message})` };
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return { error: "is not a JSON object" };
  }
  const record = doc;
  let raw = record["columns"] ?? record["_columns"];
  if (raw === void 0) return { error: 'has no "columns" or "_columns" key' };
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    raw = raw["fields"];
  }
  if (!Array.isArray(raw)) return { error: 'has a "columns" value that is not a list' };
  const columns = [];
  for (const item of raw) {
    if (item === null || typeof item !== "object") return { error: "has a column that is not {name, type}" };
    const { name, type } = item;
    if (typeof name !== "string" || type === void 0) {
      return { error: 'has a column without "name" and "type"' };
    }
    columns.push({ name, type: typeof type === "string" ? type : JSON.stringify(type) });
  }
  return { columns };
}
function parseSchemaColumns(text) {
  const columns = [];
  const skipped = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const metaAt = rawLine.indexOf("@metadata=");
    const head = metaAt >= 0 ? rawLine.slice(0, metaAt) : rawLine.replace(/(\/\/|#).*/, "");
    const line = head.trim().replace(/;\s*$/, "").trim();
    if (line === "" || line.startsWith("@")) continue;
    const match = /^([^:]+?)\s*:\s*(.+)$/.exec(line);
    if (match === null) {
      skipped.push(rawLine.trim());
      continue;
    }
    columns.push({ name: match[1], type: match[2] });
  }
  return { columns, skipped };
}
var COMPLETION_MARKED_EXTS = ["csv", "schema", "meta"];
function toOutputEntry(raw, ext) {
  const kind = raw.kind === "dir" ? "dir" : "file";
  const complete = raw.readError === void 0 && raw.temporaryPaths.length === 0 && (raw.kind === "file" || raw.kind === "dir" && raw.hasSuccess);
  return { name: raw.name, ext, kind, complete, bytes: raw.bytes };
}
function columnsOf(fqn, byExt, problems) {
  const meta = byExt.get("meta");
  if (meta?.text !== void 0) {
    const parsed = parseMetaColumns(meta.text);
    if ("columns" in parsed) return parsed.columns;
    problems.push(`${meta.name} ${parsed.error}; columns of ${fqn} taken from .schema if present`);
  }
  const schema = byExt.get("schema");
  if (schema?.text !== void 0) {
    const { columns, skipped } = parseSchemaColumns(schema.text);
    for (const line of skipped.slice(0, 3)) problems.push(`${schema.name}: skipped unreadable line "${line}"`);
    if (skipped.length > 3) problems.push(`${schema.name}: skipped ${skipped.length - 3} more unreadable lines`);
    return columns;
  }
  return null;
}
function describeAge(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1e3));
  return `${seconds}s`;
}
function buildPublishedVersion(raw, opts) {
  const problems = [...raw.readErrors];
  const incompleteReasons = [];
  let lastChangeMs = raw.mtimeMs;
  const byFqn = /* @__PURE__ */ new Map();
  for (const entry of raw.entries) {
    lastChangeMs = Math.max(lastChangeMs, entry.mtimeMs);
    if (entry.temporaryPaths.length > 0) {
      incompleteReasons.push(
        entry.name === "_temporary" ? "_temporary present at version level" : `_temporary present in ${entry.name}`
      );
    }
    if (entry.readError !== void 0) problems.push(`${entry.name} could not be read: ${entry.readError}`);
    if (isHiddenName(entry.name)) continue;
    const parsed = parseEntryName(entry.name);
    if (parsed === null) {
      problems.push(`${entry.name} is not a module output (expected <moduleFqn>.<${OUTPUT_EXTS.join("|")}>)`);
      continue;
    }
    let exts = byFqn.get(parsed.fqn);
    if (exts === void 0) byFqn.set(parsed.fqn, exts = /* @__PURE__ */ new Map());
    exts.set(parsed.ext, entry);
  }
  const modules = [];
  const stages = /* @__PURE__ */ new Set();
  for (const fqn of [...byFqn.keys()].sort()) {
    const byExt = byFqn.get(fqn);
    const entries = [];
    for (const ext of OUTPUT_EXTS) {
      const rawEntry = byExt.get(ext);
      if (rawEntry === void 0) continue;
      const entry = toOutputEntry(rawEntry, ext);
      entries.push(entry);
      if (COMPLETION_MARKED_EXTS.includes(ext) && rawEntry.temporaryPaths.length === 0) {
        if (rawEntry.readError !== void 0) {
          incompleteReasons.push(`${entry.name} could not be read`);
        } else if (rawEntry.kind === "other") {
          incompleteReasons.push(`${entry.name} is neither a file nor a directory`);
        } else if (rawEntry.kind === "dir" && !rawEntry.hasSuccess) {
          incompleteReasons.push(`${entry.name} has no _SUCCESS yet`);
        }
      }
    }
    const stage = moduleStage(fqn, opts.stages);
    if (stage === null) {
      problems.push(`module ${fqn} matches no configured stage`);
    } else {
      stages.add(stage);
    }
    const columns = columnsOf(fqn, byExt, problems);
    const bytes = entries.reduce((sum, e) => sum + e.bytes, 0);
    modules.push({ fqn, stage, entries, columns, bytes });
  }
  if (modules.length === 0) incompleteReasons.push("no module outputs yet");
  const ageMs = opts.now - lastChangeMs;
  const writtenOut = incompleteReasons.length === 0;
  if (ageMs < opts.settleSeconds * 1e3) {
    incompleteReasons.push(`changed ${describeAge(ageMs)} ago (settleSeconds ${opts.settleSeconds})`);
  }
  const complete = incompleteReasons.length === 0;
  return {
    version: raw.version,
    stages: [...stages].sort(),
    modules,
    complete,
    settling: writtenOut && !complete,
    incompleteReasons,
    lastChangeMs,
    completedAtMs: complete ? lastChangeMs : null,
    bytes: modules.reduce((sum, m) => sum + m.bytes, 0),
    problems
  };
}

// src/infra/publishScanner.ts
var SLICE_MS = 8;
var MAX_DEPTH = 16;
var MAX_TEXT_BYTES = 4 * 1024 * 1024;
function errorText(err) {
  const e = err;
  return e.code ?? e.message ?? String(err);
}
function kindOf(absPath, dirent) {
  if (dirent.isDirectory()) return { kind: "dir" };
  if (dirent.isFile()) return { kind: "file" };
  if (!dirent.isSymbolicLink()) return { kind: "other" };
  const stat2 = fs.statSync(absPath, { throwIfNoEntry: false });
  if (stat2 === void 0) return { kind: "other" };
  return { kind: stat2.isDirectory() ? "dir" : stat2.isFile() ? "file" : "other", stat: stat2 };
}
function walkDir(absPath, relPath, totals, depth, dirStat) {
  let dirents;
  try {
    const stat2 = dirStat ?? fs.statSync(absPath);
    totals.mtimeMs = Math.max(totals.mtimeMs, stat2.mtimeMs);
    dirents = fs.readdirSync(absPath, { withFileTypes: true });
  } catch (err) {
    totals.error ??= `${relPath}: ${errorText(err)}`;
    return;
  }
  for (const dirent of dirents) {
    const name = dirent.name;
    const childAbs = path5.join(absPath, name);
    if (name === "_temporary" && !dirent.isFile()) {
      totals.temporaryPaths.push(`${relPath}/${name}`);
      continue;
    }
    if (depth === 0 && name === "_SUCCESS") totals.hasSuccess = true;
    if (dirent.isFile() && isHiddenName(name)) continue;
    const { kind, stat: stat2 } = kindOf(childAbs, dirent);
    if (kind === "dir") {
      if (depth < MAX_DEPTH) walkDir(childAbs, `${relPath}/${name}`, totals, depth + 1, stat2);
      continue;
    }
    if (kind !== "file" || isHiddenName(name)) continue;
    try {
      const fileStat = stat2 ?? fs.statSync(childAbs);
      totals.bytes += fileStat.size;
      totals.mtimeMs = Math.max(totals.mtimeMs, fileStat.mtimeMs);
      if (depth === 0) totals.dataFiles.push(childAbs);
    } catch (err) {
      totals.error ??= `${relPath}/${name}: ${errorText(err)}`;
    }
  }
}
function readEntry(versionDir, dirent) {
  const name = dirent.name;
  const absPath = path5.join(versionDir, name);
  const { kind, stat: stat2 } = kindOf(absPath, dirent);
  const entry = { name, kind, bytes: 0, mtimeMs: 0, hasSuccess: false, temporaryPaths: [] };
  if (kind === "file") {
    try {
      const fileStat = stat2 ?? fs.statSync(absPath);
      entry.bytes = fileStat.size;
      entry.mtimeMs = fileStat.mtimeMs;
    } catch (err) {
      entry.readError = errorText(err);
    }
    return { entry, dataFiles: [absPath] };
  }
  if (kind !== "dir") return { entry, dataFiles: [] };
  if (name === "_temporary") {
    entry.temporaryPaths.push(name);
    entry.mtimeMs = (stat2 ?? fs.statSync(absPath, { throwIfNoEntry: false }))?.mtimeMs ?? 0;
    return { entry, dataFiles: [] };
  }
  const totals = { bytes: 0, mtimeMs: 0, hasSuccess: false, temporaryPaths: entry.temporaryPaths, dataFiles: [] };
  walkDir(absPath, name, totals, 0, stat2);
  entry.hasSuccess = totals.hasSuccess;
  entry.bytes = totals.bytes;
  entry.mtimeMs = totals.mtimeMs;
  if (totals.error !== void 0) entry.readError = totals.error;
  return { entry, dataFiles: totals.dataFiles };
}
function attachColumnTexts(read, problems) {
  const byFqn = /* @__PURE__ */ new Map();
  for (const item of read) {
    if (isHiddenName(item.entry.name)) continue;
    const parsed = parseEntryName(item.entry.name);
    if (parsed === null || parsed.ext !== "meta" && parsed.ext !== "schema") continue;
    const slot = byFqn.get(parsed.fqn) ?? {};
    slot[parsed.ext] = item;
    byFqn.set(parsed.fqn, slot);
  }
  const attach = ({ entry, dataFiles }) => {
    if (entry.readError !== void 0 || dataFiles.length === 0) return;
    if (entry.bytes > MAX_TEXT_BYTES) {
      problems.push(`${entry.name} is ${entry.bytes} bytes; too large to read columns from`);
      return;
    }
    try {
      entry.text = dataFiles.sort().map((file) => fs.readFileSync(file, "utf8")).join("");
    } catch (err) {
      entry.readError = errorText(err);
    }
  };
  for (const { meta, schema } of byFqn.values()) {
    if (meta !== void 0) attach(meta);
    const metaGaveColumns = meta?.entry.text !== void 0 && "columns" in parseMetaColumns(meta.entry.text);
    if (schema !== void 0 && !metaGaveColumns) attach(schema);
  }
}
function readVersionDirSync(publishDir, version) {
  const versionDir = path5.join(publishDir, version);
  let dirents;
  let mtimeMs;
  try {
    const stat2 = fs.statSync(versionDir, { throwIfNoEntry: false });
    if (stat2 === void 0) return void 0;
    mtimeMs = stat2.mtimeMs;
    dirents = fs.readdirSync(versionDir, { withFileTypes: true });
  } catch (err) {
    return { version, mtimeMs: 0, entries: [], readErrors: [`${version} could not be read: ${errorText(err)}`] };
  }
  const read = dirents.map((d) => readEntry(versionDir, d));
  const readErrors = [];
  attachColumnTexts(read, readErrors);
  return { version, mtimeMs, entries: read.map((r) => r.entry), readErrors };
}
async function scanVersion(publishDir, version, opts) {
  const raw = readVersionDirSync(publishDir, version);
  if (raw === void 0) return void 0;
  return buildPublishedVersion(raw, { stages: opts.stages, settleSeconds: opts.settleSeconds, now: opts.now ?? Date.now() });
}
function listVersionNames(publishDir, dirents, problems) {
  const names = [];
  for (const dirent of dirents) {
    const name = dirent.name;
    if (isHiddenName(name)) continue;
    if (kindOf(path5.join(publishDir, name), dirent).kind !== "dir") continue;
    if (!VERSION_PATTERN.test(name)) {
      problems.push(`ignored ${path5.join(publishDir, name)}: ${JSON.stringify(name)} is not a valid version name`);
      continue;
    }
    names.push(name);
  }
  return names.sort();
}
async function scanPublishDir(publishDir, opts) {
  const now = opts.now ?? Date.now();
  const problems = [];
  let dirents;
  try {
    dirents = fs.readdirSync(publishDir, { withFileTypes: true });
  } catch (err) {
    const code = err.code;
    const why = code === "ENOENT" ? "does not exist (yet)" : `could not be read: ${errorText(err)}`;
    return { versions: [], present: [], problems: [`publishDir ${publishDir} ${why}`] };
  }
  const present = listVersionNames(publishDir, dirents, problems);
  const layout = { stages: opts.stages, settleSeconds: opts.settleSeconds, now };
  const versions = [];
  let sliceStart = performance.now();
  for (const version of present) {
    if (opts.skip?.has(version)) continue;
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
    const raw = readVersionDirSync(publishDir, version);
    if (raw !== void 0) versions.push(buildPublishedVersion(raw, layout));
  }
  return { versions, present, problems };
}

// src/infra/publishWatcher.ts
import { watch } from "node:fs";
import path6 from "node:path";
function watchPublishDir(publishDir, onChange, opts = {}) {
  const debounceMs = opts.debounceMs ?? 150;
  let timer;
  let wake;
  let closed = false;
  const fire = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const tryWatch = (dir, recursive) => {
    try {
      const w = watch(dir, { recursive, persistent: false }, fire);
      w.on("error", () => w.close());
      return w;
    } catch (error2) {
      opts.onError?.(error2);
      return void 0;
    }
  };
  const root = tryWatch(publishDir, false);
  const versionWatchers = /* @__PURE__ */ new Map();
  return {
    watchVersions(versions) {
      const wanted = new Set(versions);
      for (const [version, w] of versionWatchers) {
        if (!wanted.has(version)) {
          w?.close();
          versionWatchers.delete(version);
        }
      }
      for (const version of wanted) {
        if (!versionWatchers.has(version)) versionWatchers.set(version, tryWatch(path6.join(publishDir, version), true));
      }
    },
    wakeAt(epochMs) {
      clearTimeout(wake);
      wake = setTimeout(fire, Math.max(0, epochMs - Date.now()));
      wake.unref();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(wake);
      root?.close();
      for (const w of versionWatchers.values()) w?.close();
      versionWatchers.clear();
    }
  };
}

// src/infra/scheduler.ts
import cron from "node-cron";
function schedule(expression, task, onError) {
  const job = cron.schedule(
    expression,
    async () => {
      try {
        await task();
      } catch (error2) {
        onError(error2);
      }
    },
    { noOverlap: true, name: "smvbot-scan" }
  );
  return {
    async stop() {
      await job.stop();
      await job.destroy();
    }
  };
}

// src/infra/stateStore.ts
import { readFile as readFile3 } from "node:fs/promises";
import path7 from "node:path";
import { Low } from "lowdb";
import { DataFile } from "lowdb/node";
import { z as z2 } from "zod";
var STATE_FILE_NAME = "smvbot.json";
var STATE_SCHEMA_VERSION = 1;
function emptyState() {
  return { schemaVersion: 1, initializedAt: null, publishers: {}, adoptions: [] };
}
var StateFileCorruptError = class extends Error {
  constructor(file, detail) {
    super(
      `The state file ${file} cannot be used: ${detail}. smvbot has not changed it. Restore it from a backup, or move it aside (mv ${file} ${file}.broken) to start with empty state (versions already published are then recorded again without being re-announced), and start smvbot again.`
    );
    this.file = file;
    this.detail = detail;
    this.name = "StateFileCorruptError";
  }
  file;
  detail;
  code = "state-corrupt";
};
var isoString = z2.string().min(1);
var announcementSchema = z2.object({
  status: z2.enum(["silent", "pending", "in_flight", "posted", "failed"]),
  ts: z2.string().optional(),
  attempts: z2.number().int().nonnegative(),
  lastError: z2.string().optional(),
  updatedAt: isoString
});
var storedVersionSchema = z2.object({
  version: z2.string().min(1),
  stages: z2.array(z2.string()),
  modules: z2.array(z2.object({ fqn: z2.string(), stage: z2.string().nullable(), bytes: z2.number().nonnegative() })),
  bytes: z2.number().nonnegative(),
  completedAt: isoString,
  recordedAt: isoString,
  removedAt: isoString.optional(),
  announcements: z2.record(z2.string(), announcementSchema)
});
var adoptionSchema = z2.object({
  id: z2.string().min(1),
  at: isoString,
  action: z2.enum(["adopt", "unpin"]),
  consumer: z2.string(),
  stage: z2.string(),
  from: z2.string().nullable(),
  to: z2.string().nullable(),
  commit: z2.string(),
  mode: z2.enum(["push", "branch"]),
  branch: z2.string().optional(),
  user: z2.object({ id: z2.string(), name: z2.string() })
});
var stateSchema = z2.object({
  schemaVersion: z2.literal(STATE_SCHEMA_VERSION),
  initializedAt: isoString.nullable(),
  publishers: z2.record(z2.string(), z2.object({ versions: z2.record(z2.string(), storedVersionSchema) })),
  adoptions: z2.array(adoptionSchema)
});
var StateStore = class _StateStore {
  file;
  #db;
  #writing = null;
  #queued = null;
  #closed = false;
  constructor(file, db) {
    this.file = file;
    this.#db = db;
  }
  /** Open `<dataDir>/smvbot.json`; a missing file starts empty state, a corrupt one throws StateFileCorruptError. */
  static async open(dataDir) {
    const file = path7.join(path7.resolve(dataDir), STATE_FILE_NAME);
    const existing = await readExistingState(file);
    const adapter = new DataFile(file, { parse: JSON.parse, stringify: (data) => JSON.stringify(data) });
    const db = new Low(adapter, existing ?? emptyState());
    const store = new _StateStore(file, db);
    if (existing === null) await store.#persist();
    return store;
  }
  /** Current state. Read only: change it through update() or the helpers so it gets saved. */
  get data() {
    return this.#db.data;
  }
  /**
   * Apply a change and save it. Writes run one at a time; changes made while a write
   * is running are saved together by the next write. If `fn` throws, nothing is saved.
   */
  async update(fn) {
    if (this.#closed) throw new Error(`State store ${this.file} is closed; no further changes can be saved.`);
    fn(this.#db.data);
    await this.#persist();
  }
  markInitialized(at) {
    return this.update((d) => {
      d.initializedAt = at;
    });
  }
  /** Versions known for a publisher, keyed by version name (empty when none). */
  getVersions(publisher) {
    return this.#db.data.publishers[publisher]?.versions ?? {};
  }
  getVersion(publisher, version) {
    return this.#db.data.publishers[publisher]?.versions[version];
  }
  /**
   * Record (or re-record) a version. Announcements already stored for it are kept,
   * so re-recording can never reset a posted message to pending.
   */
  recordVersion(publisher, stored) {
    return this.update((d) => {
      const versions = (d.publishers[publisher] ??= { versions: {} }).versions;
      const previous = versions[stored.version];
      versions[stored.version] = previous ? { ...stored, announcements: { ...stored.announcements, ...previous.announcements } } : stored;
    });
  }
  setAnnouncement(publisher, version, channel, announcement) {
    return this.update((d) => {
      requireVersion(d, publisher, version).announcements[channel] = announcement;
    });
  }
  markRemoved(publisher, version, at) {
    return this.update((d) => {
      requireVersion(d, publisher, version).removedAt = at;
    });
  }
  appendAdoption(record) {
    return this.update((d) => {
      d.adoptions.push(record);
    });
  }
  /** Adoption log, newest first, optionally for one consumer and/or stage FQN. */
  adoptions(filter = {}) {
    const limit = filter.limit ?? Infinity;
    const found = [];
    const log = this.#db.data.adoptions;
    for (let i = log.length - 1; i >= 0 && found.length < limit; i--) {
      const rec = log[i];
      if (filter.consumer !== void 0 && rec.consumer !== filter.consumer) continue;
      if (filter.stage !== void 0 && rec.stage !== filter.stage) continue;
      found.push(rec);
    }
    return found;
  }
  /** Wait for pending writes; later changes are refused. */
  async close() {
    this.#closed = true;
    await this.#queued?.catch(() => void 0);
    await this.#writing?.catch(() => void 0);
  }
  // One write at a time; any number of requests during a write share the single next write.
  #persist() {
    if (this.#queued) return this.#queued;
    if (!this.#writing) return this.#startWrite();
    const queued = this.#writing.catch(() => void 0).then(() => {
      this.#queued = null;
      return this.#startWrite();
    });
    this.#queued = queued;
    return queued;
  }
  #startWrite() {
    const writing = this.#db.write().finally(() => {
      if (this.#writing === writing) this.#writing = null;
    });
    this.#writing = writing;
    return writing;
  }
};
function openStateStore(dataDir) {
  return StateStore.open(dataDir);
}
function requireVersion(d, publisher, version) {
  const stored = d.publishers[publisher]?.versions[version];
  if (!stored) throw new Error(`No recorded version ${version} for publisher ${publisher}; record it before updating it.`);
  return stored;
}
async function readExistingState(file) {
  let text;
  try {
    text = await readFile3(file, "utf8");
  } catch (err) {
    if (err.code === "ENOENT") return null;
    throw err;
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StateFileCorruptError(file, `it is not valid JSON (${err.message})`);
  }
  const version = parsed?.schemaVersion;
  if (typeof version === "number" && version > STATE_SCHEMA_VERSION) {
    throw new StateFileCorruptError(
      file,
      `it was written by a newer smvbot (state schema version ${version}, this smvbot reads version ${STATE_SCHEMA_VERSION}); upgrade smvbot`
    );
  }
  const checked = stateSchema.safeParse(parsed);
  if (!checked.success) {
    const first = checked.error.issues.slice(0, 3).map((issue) => {
      const where = issue.path.length ? issue.path.join(".") : "top level";
      return `${where}: ${issue.message}`;
    });
    const more = checked.error.issues.length > 3 ? `, and ${checked.error.issues.length - 3} more` : "";
    throw new StateFileCorruptError(file, `it does not have the shape of smvbot state (${first.join("; ")}${more})`);
  }
  return parsed;
}

// src/slack/app.ts
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from "@slack/bolt";

// src/slack/render/format.ts
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
function slackDate(iso) {
  const seconds = Math.floor(new Date(iso).getTime() / 1e3);
  return `<!date^${seconds}^{date_short_pretty} {time}|${formatTime(iso)}>`;
}
function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
function shortSha(sha) {
  return sha.slice(0, 7);
}
function cappedList(lines, max) {
  if (lines.length <= max) return lines.join("\n");
  return [...lines.slice(0, max), `\u2026 and ${lines.length - max} more`].join("\n");
}
function clip(text, max = 2900) {
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text;
}
function mrkdwnMessage(text, paragraphs = [text]) {
  return {
    text: clip(text, 3900),
    blocks: paragraphs.filter((p) => p.trim()).slice(0, 45).map((p) => ({ type: "section", text: { type: "mrkdwn", text: clip(p) } }))
  };
}

// src/slack/render/announcement.ts
var ADOPT_ACTION_PREFIX = "smv_adopt";
var PUBLISHED_EVENT_TYPE = "smv_version_published";
function renderAnnouncement({ publisher, version: v }, topology) {
  const names = v.stages.map((fqn) => topology.stage(fqn)?.displayName ?? fqn);
  const summary = `New release of ${names.join(", ")}: ${v.version} from ${publisher} \u2014 ${plural(v.modules.length, "module")}, ${formatBytes(v.bytes)}, completed ${formatTime(v.completedAt)}`;
  const modules = v.modules.map((m) => `\u2022 \`${m.fqn}\``);
  const blocks = [
    { type: "header", text: { type: "plain_text", text: clip(`New release: ${names.join(", ")} ${v.version}`, 150) } },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Version*
\`${v.version}\`` },
        { type: "mrkdwn", text: `*Publisher*
${publisher}` },
        { type: "mrkdwn", text: `*Stages*
${v.stages.map((s) => `\`${s}\``).join(", ")}` },
        { type: "mrkdwn", text: `*Modules*
${v.modules.length} (${formatBytes(v.bytes)})` },
        { type: "mrkdwn", text: `*Completed*
${slackDate(v.completedAt)}` }
      ]
    },
    { type: "section", text: { type: "mrkdwn", text: clip(cappedList(modules, 30)) } }
  ];
  const buttons = v.stages.slice(0, 25).map((fqn, i) => {
    const name = names[i];
    const value = { stage: fqn, version: v.version };
    return {
      type: "button",
      action_id: `${ADOPT_ACTION_PREFIX}:${i}`,
      text: { type: "plain_text", text: clip(`Adopt ${name}`, 75) },
      value: JSON.stringify(value),
      confirm: {
        title: { type: "plain_text", text: "Adopt this version?" },
        text: {
          type: "mrkdwn",
          text: clip(`Pin *${name}* to \`${v.version}\` in this channel's consumer config (a commit pushed to its repo).`, 300)
        },
        confirm: { type: "plain_text", text: "Adopt" },
        deny: { type: "plain_text", text: "Cancel" }
      }
    };
  });
  if (buttons.length) blocks.push({ type: "actions", block_id: "smv_adopt_actions", elements: buttons });
  return {
    text: summary,
    blocks,
    metadata: {
      event_type: PUBLISHED_EVENT_TYPE,
      event_payload: { publisher, version: v.version, stages: v.stages, modules: v.modules.map((m) => m.fqn) }
    }
  };
}
function parseAdoptButtonValue(raw) {
  try {
    const value = JSON.parse(raw ?? "");
    return typeof value.stage === "string" && typeof value.version === "string" ? { stage: value.stage, version: value.version } : null;
  } catch {
    return null;
  }
}

// src/slack/render/answers.ts
function renderReleases(releases2, pinned, note) {
  const paragraphs = releases2.map(({ stage, versions, total }) => {
    const pin = pinned?.pins.get(stage.fqn) ?? null;
    const head = `*${stage.displayName}* (\`${stage.fqn}\`, ${stage.publisher.name}) \u2014 ${plural(total, "complete version")}`;
    if (!versions.length) return `${head}
_nothing published yet_`;
    const lines = versions.map((v, i) => {
      const marks = [i === 0 ? "latest" : "", pin === v.version ? `:pushpin: pinned by ${pinned.consumer}` : ""].filter(Boolean);
      return `\u2022 \`${v.version}\` \u2014 ${plural(v.moduleCount, "module")}, completed ${formatTime(v.completedAt)}${marks.length ? `  _${marks.join(" \xB7 ")}_` : ""}`;
    });
    if (pin && !versions.some((v) => v.version === pin)) lines.push(`\u2022 :pushpin: ${pinned.consumer} pins \`${pin}\` (older or not published)`);
    return `${head}
${lines.join("\n")}`;
  });
  if (!paragraphs.length) paragraphs.push("No stages are configured.");
  if (note) paragraphs.push(`_${note}_`);
  const title = releases2.length === 1 ? `Releases of ${releases2[0].stage.displayName}` : "Latest releases";
  return mrkdwnMessage(`${title}
${paragraphs.join("\n")}`, [`*${title}*`, ...paragraphs]);
}
function describePin2(pin) {
  if (pin.version === null) return "not pinned (live code)";
  return `\`${pin.version}\` (${pin.key} in the ${pin.source} conf)`;
}
function renderPins(consumer, branch, stages) {
  const lines = stages.map(({ stage, pin, latest, behind, warnings }) => {
    let line = `\u2022 *${stage.displayName}* \u2192 ${describePin2(pin)}`;
    if (pin.version !== null && behind !== null) {
      line += behind === 0 ? " \u2014 up to date" : ` \u2014 ${plural(behind, "version")} behind latest \`${latest.version}\``;
    } else if (pin.version === null && latest) {
      line += ` \u2014 latest is \`${latest.version}\``;
    }
    return [line, ...warnings.map((w) => `   :warning: ${w}`)].join("\n");
  });
  const title = `Pins of ${consumer} (branch ${branch})`;
  return mrkdwnMessage(`${title}
${lines.join("\n")}`, [`*${title}*`, lines.join("\n") || "No stages are configured."]);
}
function renderHistory(records, topology, scope) {
  if (!records.length) return mrkdwnMessage(`No adoptions recorded${scope}. Pin one with \`/smv adopt <stage> <version>\`.`);
  const lines = records.map((r) => {
    const stage = topology.stage(r.stage)?.displayName ?? r.stage;
    const change = r.action === "adopt" ? `adopted ${stage} \`${r.to}\`` : `unpinned ${stage}`;
    const where = r.branch ? ` on branch \`${r.branch}\`` : "";
    return `\u2022 ${formatTime(r.at)} \u2014 <@${r.user.id}> (${r.user.name}) ${change} for ${r.consumer} (was ${r.from ?? "none"}) \u2014 commit \`${shortSha(r.commit)}\`${where}`;
  });
  const title = `Recent adoptions${scope}`;
  return mrkdwnMessage(`${title}
${lines.join("\n")}`, [`*${title}*`, lines.join("\n")]);
}
function renderAdoptOutcome(outcome, userId) {
  if (!outcome.ok) return { message: mrkdwnMessage(outcome.message), inChannel: false };
  if (outcome.status === "already-pinned") {
    return {
      message: mrkdwnMessage(
        `${outcome.stage.displayName} is already pinned to \`${outcome.version}\` for ${outcome.consumer.name} (${outcome.pin.key} in the ${outcome.pin.source} conf). Nothing to commit.`
      ),
      inChannel: false
    };
  }
  const text = `<@${userId}> adopted ${outcome.stage.displayName} ${outcome.version} for ${outcome.consumer.name} (was ${outcome.previous ?? "none"}) \u2014 commit ${shortSha(outcome.commit)}` + (outcome.branch ? ` on branch \`${outcome.branch}\`, ready for review` : "");
  return { message: mrkdwnMessage(text), inChannel: true };
}
function renderUnpinOutcome(outcome, userId) {
  if (!outcome.ok) return { message: mrkdwnMessage(outcome.message), inChannel: false };
  const still = outcome.stillPinnedBy.version !== null ? ` Note: ${outcome.stillPinnedBy.key} in the app conf still pins it to \`${outcome.stillPinnedBy.version}\`, so SMV keeps using that version.` : "";
  if (outcome.status === "not-pinned") {
    return {
      message: mrkdwnMessage(`${outcome.stage.displayName} has no pin in ${outcome.consumer.name}'s ${outcome.consumer.confPath}. Nothing to commit.${still}`),
      inChannel: false
    };
  }
  const text = `<@${userId}> unpinned ${outcome.stage.displayName} for ${outcome.consumer.name} (was ${outcome.previous ?? "none"}) \u2014 commit ${shortSha(outcome.commit)}${outcome.branch ? ` on branch \`${outcome.branch}\`, ready for review` : ""}.${still}`;
  return { message: mrkdwnMessage(text), inChannel: true };
}
function renderDiff(diff, stageName) {
  const title = `${stageName}: ${diff.from} \u2192 ${diff.to}`;
  if (!diff.fromHasStage && !diff.toHasStage) {
    return mrkdwnMessage(`Neither \`${diff.from}\` nor \`${diff.to}\` holds modules of ${stageName}. Check the versions with \`/smv releases ${stageName}\`.`);
  }
  if (diff.identical) return mrkdwnMessage(`*${title}*: no module or column changes.`);
  const lines = [];
  for (const fqn of diff.modulesAdded) lines.push(`:heavy_plus_sign: module \`${fqn}\``);
  for (const fqn of diff.modulesRemoved) lines.push(`:heavy_minus_sign: module \`${fqn}\``);
  for (const m of diff.modulesChanged) {
    const parts = [
      ...m.added.map((c) => `+ \`${c.name}\` ${c.type}`),
      ...m.removed.map((c) => `\u2212 \`${c.name}\` ${c.type}`),
      ...m.retyped.map((c) => `~ \`${c.name}\` ${c.from} \u2192 ${c.to}`)
    ];
    lines.push(`*\`${m.fqn}\`*
${parts.map((p) => `   ${p}`).join("\n")}`);
  }
  if (diff.columnsUnknown.length) {
    lines.push(`_Columns unknown (no readable .meta/.schema) for: ${diff.columnsUnknown.map((f) => `\`${f}\``).join(", ")}_`);
  }
  if (diff.modulesUnchanged.length) lines.push(`_${plural(diff.modulesUnchanged.length, "module")} unchanged_`);
  return mrkdwnMessage(`${title}
${lines.join("\n")}`, [`*${title}*`, ...lines]);
}

// src/slack/services.ts
function ephemeral(message) {
  return { response_type: "ephemeral", ...message };
}
function inChannel(message) {
  return { response_type: "in_channel", replace_original: false, ...message };
}

// src/slack/listeners/adoptButton.ts
var ADOPT_MODAL_CALLBACK = "smv_adopt_consumer";
var CONSUMER_BLOCK = "consumer";
var CONSUMER_ACTION = "consumer";
async function handleAdoptButton(services, input, respond, openModal) {
  const target = parseAdoptButtonValue(input.value);
  if (!target) {
    await respond(ephemeral(mrkdwnMessage("This Adopt button is malformed. Use `/smv adopt <stage> <version>` instead.")));
    return;
  }
  const consumer = services.topology.resolveConsumer(void 0, input.channelId);
  if (consumer.ok) {
    await respond(await runAdopt(services, consumer.consumer.name, target.stage, target.version, input.userId));
    return;
  }
  const bound = services.topology.consumersForChannel(input.channelId);
  const choices = (bound.length > 1 ? bound : services.topology.consumers).map((c) => c.name);
  if (!choices.length) {
    await respond(ephemeral(mrkdwnMessage("No consumers are configured, so there is nothing to adopt for. Add one under `consumers:` in smvbot.yml.")));
    return;
  }
  const state = { stage: target.stage, version: target.version, channelId: input.channelId, ...input.responseUrl ? { responseUrl: input.responseUrl } : {} };
  await openModal(input.triggerId, adoptModal(state, choices, services.topology.stage(target.stage)?.displayName ?? target.stage));
}
async function runAdopt(services, consumer, stage, version, userId) {
  try {
    const outcome = await services.adopt.adopt({ consumer, stage, version, userId });
    const { message, inChannel: public_ } = renderAdoptOutcome(outcome, userId);
    return public_ ? inChannel(message) : ephemeral(message);
  } catch (error2) {
    services.log.error({ err: error2 }, "adopt failed");
    return ephemeral(mrkdwnMessage(`Sorry, adopting ${version} failed unexpectedly (it is in the bot log). Try \`/smv adopt ${stage} ${version}\` again.`));
  }
}
function adoptModal(state, consumers, stageName) {
  return {
    type: "modal",
    callback_id: ADOPT_MODAL_CALLBACK,
    private_metadata: JSON.stringify(state),
    title: { type: "plain_text", text: "Adopt version" },
    submit: { type: "plain_text", text: "Adopt" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `Pin *${stageName}* to \`${state.version}\` for which consumer?` } },
      {
        type: "input",
        block_id: CONSUMER_BLOCK,
        label: { type: "plain_text", text: "Consumer" },
        element: {
          type: "static_select",
          action_id: CONSUMER_ACTION,
          options: consumers.slice(0, 100).map((name) => ({ text: { type: "plain_text", text: name }, value: name }))
        }
      }
    ]
  };
}

// src/slack/listeners/adoptModal.ts
async function handleAdoptModal(services, input, reply) {
  let state;
  try {
    state = JSON.parse(input.privateMetadata);
  } catch {
    services.log.warn({}, "adopt modal submitted with unreadable state");
    return;
  }
  if (!input.selectedConsumer) {
    await reply(state.responseUrl, state.channelId, ephemeral(mrkdwnMessage("No consumer was chosen, so nothing was adopted. Click Adopt again and pick one.")));
    return;
  }
  await reply(state.responseUrl, state.channelId, await runAdopt(services, input.selectedConsumer, state.stage, state.version, input.userId));
}

// src/core/releases.ts
function listReleases(topology, catalog, opts = {}) {
  const stages = opts.stage ? [opts.stage] : topology.stages;
  const limit = opts.stage ? opts.forOneStage ?? 15 : opts.perStage ?? 3;
  return stages.map((stage) => {
    const all = catalog.versionsOf(stage.fqn);
    return { stage, versions: all.slice(0, limit), total: all.length };
  });
}

// src/slack/commandParser.ts
var SUBCOMMANDS = ["releases", "pins", "adopt", "unpin", "diff", "history", "help"];
var COMMAND_HELP = {
  releases: {
    syntax: "/smv releases [stage]",
    summary: "newest complete versions per stage, with completion time and module count",
    examples: ["/smv releases", "/smv releases geo"]
  },
  pins: {
    syntax: "/smv pins [consumer]",
    summary: "the consumer's effective pin per stage and how far behind latest it is",
    examples: ["/smv pins", "/smv pins client-model"]
  },
  adopt: {
    syntax: "/smv adopt <stage> <version|latest> [consumer]",
    summary: "pin a published version in the consumer's repo (commit and push)",
    examples: ["/smv adopt geo TCD.20160802.geo", "/smv adopt geo latest", "/smv adopt geo latest client-model"]
  },
  unpin: {
    syntax: "/smv unpin <stage> [consumer]",
    summary: "remove the pin so the stage runs live code again",
    examples: ["/smv unpin geo", "/smv unpin geo client-model"]
  },
  diff: {
    syntax: "/smv diff <stage> <version1> <version2>",
    summary: "modules and columns added, removed or retyped between two versions",
    examples: ["/smv diff geo TCD.20160801.geo TCD.20160802.geo"]
  },
  history: {
    syntax: "/smv history [stage] [consumer]",
    summary: "recent adoptions: who, when, from \u2192 to, commit",
    examples: ["/smv history", "/smv history geo", "/smv history geo client-model", "/smv history * client-model"]
  },
  help: {
    syntax: "/smv help",
    summary: "this help; name a command for just its usage",
    examples: ["/smv help", "/smv help adopt"]
  }
};
var USAGE = [
  "*smvbot* announces complete SMV stage versions and pins them in consumer repos.",
  ...SUBCOMMANDS.map((sub) => {
    const help = COMMAND_HELP[sub];
    return `\u2022 \`${help.syntax}\` \u2014 ${help.summary}. ${examplesText(help.examples)}`;
  }),
  "`<stage>` is a stage base name (`geo`) or its full name (`com.acme.geo`). `[consumer]` is needed only when the channel does not decide it. In `/smv history`, use `*` as the stage to see every stage of one consumer."
].join("\n");
function usageOf(sub) {
  const help = COMMAND_HELP[sub];
  return `\`${help.syntax}\` \u2014 ${help.summary}. ${examplesText(help.examples)}`;
}
var HELP_WORDS = /* @__PURE__ */ new Set(["help", "-h", "--help", "?", "usage"]);
var STAGE_WILDCARDS = /* @__PURE__ */ new Set(["*", "all"]);
function parseSmvCommand(text) {
  const words = tokenize(text);
  const [first, ...args] = words;
  if (first === void 0) return { kind: "help" };
  const sub = first.toLowerCase();
  if (HELP_WORDS.has(sub)) {
    const topic = args[0]?.toLowerCase();
    return topic !== void 0 && isSubcommand(topic) ? { kind: "help", topic } : { kind: "help" };
  }
  switch (sub) {
    case "releases": {
      if (args.length > 1) return tooMany("releases", "at most one stage", args);
      return args[0] === void 0 ? { kind: "releases" } : { kind: "releases", stage: args[0] };
    }
    case "pins": {
      if (args.length > 1) return tooMany("pins", "at most one consumer", args);
      return args[0] === void 0 ? { kind: "pins" } : { kind: "pins", consumer: args[0] };
    }
    case "adopt": {
      const [stage, version, consumer] = args;
      if (stage === void 0) {
        return error("`/smv adopt` needs a stage and a version. Try `/smv adopt geo TCD.20160802.geo` or `/smv adopt geo latest`.");
      }
      if (version === void 0) {
        return error(`\`/smv adopt ${stage}\` is missing the version. Try \`/smv adopt ${stage} <version>\` or \`/smv adopt ${stage} latest\`; \`/smv releases ${stage}\` lists the versions.`);
      }
      if (args.length > 3) return tooMany("adopt", "a stage, a version and optionally a consumer", args);
      const adopt = { kind: "adopt", stage, version: normaliseVersion(version) };
      return consumer === void 0 ? adopt : { ...adopt, consumer };
    }
    case "unpin": {
      const [stage, consumer] = args;
      if (stage === void 0) return error("`/smv unpin` needs a stage. Try `/smv unpin geo` or `/smv unpin geo client-model`.");
      if (args.length > 2) return tooMany("unpin", "a stage and optionally a consumer", args);
      return consumer === void 0 ? { kind: "unpin", stage } : { kind: "unpin", stage, consumer };
    }
    case "diff": {
      const [stage, from, to] = args;
      if (to === void 0) {
        const typed = ["/smv diff", ...args].join(" ");
        return error(`\`${typed}\` needs a stage and two versions. Try \`/smv diff geo TCD.20160801.geo TCD.20160802.geo\`.`);
      }
      if (args.length > 3 || stage === void 0 || from === void 0) return tooMany("diff", "a stage and two versions", args);
      return { kind: "diff", stage, from: normaliseVersion(from), to: normaliseVersion(to) };
    }
    case "history": {
      const [a, b] = args;
      if (args.length > 2) return tooMany("history", "at most a stage and a consumer", args);
      if (a === void 0) return { kind: "history", args: [] };
      return b === void 0 ? { kind: "history", args: [a] } : { kind: "history", args: [a, b] };
    }
    default:
      return unknownSubcommand(first);
  }
}
function resolveHistoryArgs(args, names) {
  const [first, second] = args;
  if (first === void 0) return { kind: "history" };
  const stage = STAGE_WILDCARDS.has(first.toLowerCase()) ? void 0 : first;
  if (second !== void 0) return stage === void 0 ? { kind: "history", consumer: second } : { kind: "history", stage, consumer: second };
  if (stage === void 0) return { kind: "history" };
  if (names.isStage(stage)) return { kind: "history", stage };
  const consumer = names.consumers.find((c) => c.toLowerCase() === stage.toLowerCase());
  if (consumer !== void 0) return { kind: "history", consumer };
  const known = names.consumers.length > 0 ? ` Consumers: ${names.consumers.map((c) => `\`${c}\``).join(", ")}.` : "";
  return error(
    `\`${stage}\` is neither a stage nor a consumer.${known} Try \`/smv history geo\`, \`/smv history * client-model\`, or \`/smv releases\` to see the stages.`
  );
}
function tokenize(text) {
  const unwrapped = text.replace(/<([^<>|]*)\|([^<>]*)>/g, "$2").replace(/<(?:https?:\/\/|mailto:|[#@!])?([^<>]*)>/g, "$1").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  return unwrapped.split(/[\s\u200B\u2060\uFEFF]+/u).map((word) => word.replace(QUOTES_AT_ENDS, "")).filter((word) => word !== "");
}
var QUOTES_AT_ENDS = /^["'`\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u201F\u00AB\u00BB\u2039\u203A]+|["'`\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u201F\u00AB\u00BB\u2039\u203A]+$/gu;
function normaliseVersion(version) {
  return version.toLowerCase() === "latest" ? "latest" : version;
}
function isSubcommand(word) {
  return SUBCOMMANDS.includes(word);
}
function error(message) {
  return { kind: "error", message };
}
function tooMany(sub, takes, args) {
  const help = COMMAND_HELP[sub];
  return error(
    `\`/smv ${sub}\` takes ${takes}, but got ${args.length} arguments (\`${args.join(" ")}\`). Usage: \`${help.syntax}\`. ${examplesText(help.examples)}`
  );
}
function unknownSubcommand(word) {
  const lower = word.toLowerCase();
  const closest2 = SUBCOMMANDS.map((sub) => ({ sub, distance: editDistance2(lower, sub) })).filter(({ distance }) => distance <= 2).sort((a, b) => a.distance - b.distance)[0];
  const suggestion2 = closest2 ? ` Did you mean \`/smv ${closest2.sub}\`?` : "";
  const list = SUBCOMMANDS.map((sub) => `\`${sub}\``).join(", ");
  return error(`Unknown subcommand \`${word}\`.${suggestion2} Subcommands: ${list}. Type \`/smv help\` for examples.`);
}
function examplesText(examples) {
  const quoted2 = examples.map((e) => `\`${e}\``);
  return `${quoted2.length === 1 ? "Example" : "Examples"}: ${quoted2.join(", ")}.`;
}
function editDistance2(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// src/slack/listeners/appHome.ts
function homeView(services) {
  const releases2 = renderReleases(listReleases(services.topology, services.catalog), null);
  return {
    type: "home",
    blocks: [
      { type: "header", text: { type: "plain_text", text: "smvbot \u2014 SMV stage releases" } },
      ...releases2.blocks ?? [],
      { type: "divider" },
      { type: "section", text: { type: "mrkdwn", text: USAGE.slice(0, 2900) } }
    ]
  };
}

// src/domain/schemaDiff.ts
function normalizeType(type) {
  return type.toLowerCase().replace(/\s+/g, "").replace(/\[/g, "(").replace(/\]/g, ")");
}
function stageModules(version, stageFqn) {
  return new Map(version.modules.filter((m) => m.stage === stageFqn).map((m) => [m.fqn, m]));
}
function diffColumns(fqn, from, to) {
  const before = new Map(from.map((c) => [c.name, c]));
  const after = new Map(to.map((c) => [c.name, c]));
  const added = to.filter((c) => !before.has(c.name));
  const removed = from.filter((c) => !after.has(c.name));
  const retyped = [];
  for (const col of to) {
    const old = before.get(col.name);
    if (old !== void 0 && normalizeType(old.type) !== normalizeType(col.type)) {
      retyped.push({ name: col.name, from: old.type, to: col.type });
    }
  }
  return { fqn, added, removed, retyped };
}
function diffVersions(stageFqn, a, b) {
  const before = stageModules(a, stageFqn);
  const after = stageModules(b, stageFqn);
  const modulesAdded = [...after.keys()].filter((fqn) => !before.has(fqn)).sort();
  const modulesRemoved = [...before.keys()].filter((fqn) => !after.has(fqn)).sort();
  const modulesChanged = [];
  const modulesUnchanged = [];
  const columnsUnknown = [];
  for (const fqn of [...after.keys()].filter((f) => before.has(f)).sort()) {
    const fromCols = before.get(fqn).columns;
    const toCols = after.get(fqn).columns;
    if (fromCols === null || toCols === null) {
      columnsUnknown.push(fqn);
      continue;
    }
    const diff = diffColumns(fqn, fromCols, toCols);
    if (diff.added.length + diff.removed.length + diff.retyped.length > 0) modulesChanged.push(diff);
    else modulesUnchanged.push(fqn);
  }
  return {
    stage: stageFqn,
    from: a.version,
    to: b.version,
    fromHasStage: before.size > 0,
    toHasStage: after.size > 0,
    modulesAdded,
    modulesRemoved,
    modulesChanged,
    modulesUnchanged,
    columnsUnknown,
    identical: modulesAdded.length === 0 && modulesRemoved.length === 0 && modulesChanged.length === 0 && columnsUnknown.length === 0
  };
}

// src/core/diff.ts
async function diffStageVersions(inspect, stage, from, to) {
  for (const v of [from, to]) {
    const bad = validateVersionString(v);
    if (bad) return bad;
  }
  const opts = { stages: stage.publisher.stages, settleSeconds: 0 };
  const [a, b] = await Promise.all([inspect(stage.publisher.publishDir, from, opts), inspect(stage.publisher.publishDir, to, opts)]);
  const missing = [a ? null : from, b ? null : to].filter((v) => v !== null);
  if (missing.length) {
    return refuse(
      "unknown-version",
      `${missing.map((v) => `\`${v}\``).join(" and ")} ${missing.length > 1 ? "are" : "is"} not in ${stage.publisher.name}'s publish dir. See \`/smv releases ${stage.displayName}\` for the versions there.`
    );
  }
  return { ok: true, diff: diffVersions(stage.fqn, a, b) };
}

// src/slack/listeners/smvCommand.ts
async function handleSmvCommand(services, input, ack, respond) {
  const parsed = parseSmvCommand(input.text);
  if (parsed.kind === "error") return ack(ephemeral(mrkdwnMessage(parsed.message)));
  if (parsed.kind === "help") return ack(ephemeral(mrkdwnMessage(parsed.topic ? usageOf(parsed.topic) : USAGE)));
  if (parsed.kind === "history") return ack(history(services, input, parsed.args));
  const early = refuseEarly(services, input, parsed);
  if (early) return ack(ephemeral(mrkdwnMessage(early)));
  await ack();
  try {
    await respond(await slowAnswer(services, input, parsed));
  } catch (error2) {
    services.log.error({ err: error2, command: parsed.kind }, "command failed");
    const gist = services.gitErrorGist(error2);
    const why = gist ? `git said: ${gist}` : "an unexpected error (it is in the bot log)";
    await respond(ephemeral(mrkdwnMessage(`Sorry, \`/smv ${input.text.trim()}\` failed: ${why}. Try again, or ask an admin to check the bot.`)));
  }
}
function refuseEarly(services, input, cmd) {
  const { topology } = services;
  if ("stage" in cmd && cmd.stage !== void 0) {
    const stage = topology.resolveStage(cmd.stage);
    if (!stage.ok) return stage.message;
  }
  if (cmd.kind === "pins" || cmd.kind === "adopt" || cmd.kind === "unpin") {
    const consumer = topology.resolveConsumer(cmd.consumer, input.channelId);
    if (!consumer.ok) return consumer.message;
  }
  return null;
}
async function slowAnswer(services, input, cmd) {
  const { topology } = services;
  const stageOf = (typed) => topology.resolveStage(typed).stage;
  const consumerOf = (explicit) => {
    const resolved = topology.resolveConsumer(explicit, input.channelId);
    if (!resolved.ok) throw new Error(resolved.message);
    return resolved.consumer.name;
  };
  switch (cmd.kind) {
    case "releases":
      return releases(services, input, cmd.stage === void 0 ? void 0 : stageOf(cmd.stage));
    case "pins": {
      const consumer = topology.consumer(consumerOf(cmd.consumer));
      const report = await services.pins.report(consumer);
      return ephemeral(renderPins(consumer.name, consumer.branch, report.stages));
    }
    case "adopt": {
      const outcome = await services.adopt.adopt({ consumer: consumerOf(cmd.consumer), stage: cmd.stage, version: cmd.version, userId: input.userId });
      const { message, inChannel: public_ } = renderAdoptOutcome(outcome, input.userId);
      return public_ ? inChannel(message) : ephemeral(message);
    }
    case "unpin": {
      const outcome = await services.adopt.unpin({ consumer: consumerOf(cmd.consumer), stage: cmd.stage, userId: input.userId });
      const { message, inChannel: public_ } = renderUnpinOutcome(outcome, input.userId);
      return public_ ? inChannel(message) : ephemeral(message);
    }
    case "diff": {
      const stage = stageOf(cmd.stage);
      const result = await diffStageVersions(services.inspectVersion, stage, cmd.from, cmd.to);
      return ephemeral(result.ok ? renderDiff(result.diff, stage.displayName) : mrkdwnMessage(result.message));
    }
  }
}
async function releases(services, input, stage) {
  const list = listReleases(services.topology, services.catalog, stage ? { stage } : {});
  const consumer = services.topology.resolveConsumer(void 0, input.channelId);
  if (!consumer.ok) return ephemeral(renderReleases(list, null));
  try {
    const files = await services.pins.confFiles(consumer.consumer);
    const pins = new Map(list.map(({ stage: s }) => [s.fqn, services.pins.pinOf(files, s).version]));
    return ephemeral(renderReleases(list, { consumer: consumer.consumer.name, pins }));
  } catch (error2) {
    const gist = services.gitErrorGist(error2);
    if (gist === null) throw error2;
    return ephemeral(renderReleases(list, null, `Could not read ${consumer.consumer.name}'s pins (${gist}), so they are not marked.`));
  }
}
function history(services, input, args) {
  const { topology } = services;
  const resolved = resolveHistoryArgs(args, {
    isStage: (name) => {
      const r = topology.resolveStage(name);
      return r.ok || r.code === "ambiguous-stage";
    },
    consumers: topology.consumers.map((c) => c.name)
  });
  if (resolved.kind === "error") return ephemeral(mrkdwnMessage(resolved.message));
  let stageFqn;
  if (resolved.stage !== void 0) {
    const stage = topology.resolveStage(resolved.stage);
    if (!stage.ok) return ephemeral(mrkdwnMessage(stage.message));
    stageFqn = stage.stage.fqn;
  }
  let consumer = resolved.consumer;
  if (consumer !== void 0) {
    const found = topology.resolveConsumer(consumer, void 0);
    if (!found.ok) return ephemeral(mrkdwnMessage(found.message));
  } else if (args.length < 2) {
    const bound = topology.consumersForChannel(input.channelId);
    if (bound.length === 1) consumer = bound[0].name;
  }
  const records = services.adoptions({ ...stageFqn ? { stage: stageFqn } : {}, ...consumer ? { consumer } : {}, limit: 15 });
  const scope = [stageFqn ? ` of ${topology.stage(stageFqn)?.displayName ?? stageFqn}` : "", consumer ? ` for ${consumer}` : ""].join("");
  return ephemeral(renderHistory(records, topology, scope));
}

// src/slack/listeners/index.ts
function registerListeners(app, services) {
  app.command("/smv", async ({ command, ack, respond }) => {
    await handleSmvCommand(
      services,
      { text: command.text ?? "", userId: command.user_id, channelId: command.channel_id },
      (reply) => ack(reply),
      (reply) => respond(reply)
    );
  });
  app.action(new RegExp(`^${ADOPT_ACTION_PREFIX}`), async ({ ack, body, action, respond, client }) => {
    await ack();
    await handleAdoptButton(
      services,
      {
        value: action.value,
        userId: body.user.id,
        channelId: body.channel?.id ?? body.container?.channel_id ?? "",
        triggerId: body.trigger_id,
        ...body.response_url ? { responseUrl: body.response_url } : {}
      },
      (reply) => respond(reply),
      (triggerId, view) => client.views.open({ trigger_id: triggerId, view })
    );
  });
  app.view(ADOPT_MODAL_CALLBACK, async ({ ack, body, view, client }) => {
    await ack();
    const selected = view.state.values[CONSUMER_BLOCK]?.[CONSUMER_ACTION]?.selected_option?.value;
    await handleAdoptModal(
      services,
      { privateMetadata: view.private_metadata, selectedConsumer: selected, userId: body.user.id },
      (responseUrl, channelId, reply) => sendReply(client, responseUrl, channelId, body.user.id, reply)
    );
  });
  app.event("app_home_opened", async ({ event, client }) => {
    if (event.tab !== "home") return;
    await client.views.publish({ user_id: event.user, view: homeView(services) });
  });
}
async function sendReply(client, responseUrl, channelId, userId, reply) {
  if (responseUrl) {
    const res = await fetch(responseUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(reply) });
    if (res.ok) return;
  }
  const message = { channel: channelId, text: reply.text, ...reply.blocks ? { blocks: reply.blocks } : {} };
  if (reply.response_type === "in_channel") await client.chat.postMessage(message);
  else await client.chat.postEphemeral({ ...message, user: userId });
}

// src/slack/app.ts
function createSlackApp(opts) {
  const logger = boltLogger(opts.logger.child({ component: "bolt" }));
  const customRoutes = [
    {
      path: "/healthz",
      method: ["GET"],
      handler: (_req, res) => {
        const { status, body } = opts.health();
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      }
    }
  ];
  let server;
  const receiver = opts.appToken ? new SocketModeReceiver({ appToken: opts.appToken, customRoutes, installerOptions: { port: opts.port }, logger }) : new HTTPReceiver({
    signingSecret: opts.signingSecret ?? "",
    endpoints: "/slack/events",
    customRoutes,
    logger,
    // Ack as soon as the listener acks: slow work continues after the HTTP response.
    processBeforeResponse: false
  });
  const app = new App({
    receiver,
    token: opts.botToken,
    // Bolt would otherwise call auth.test in this constructor and leave its rejection unhandled
    // (a revoked token crashed the process with a stack trace); start() checks the token instead.
    deferInitialization: true,
    logger,
    clientOptions: {
      slackApiUrl: opts.apiUrl,
      ...opts.retryConfig ? { retryConfig: opts.retryConfig } : {},
      // Wait out 429s (Retry-After) instead of failing the call.
      rejectRateLimitedCalls: false
    }
  });
  registerListeners(app, opts.services);
  app.error(async (error2) => {
    opts.services.log.error({ err: error2 }, "unhandled error in a Slack listener");
  });
  return {
    async start() {
      await checkBotToken(() => app.init(), opts.apiUrl);
      if (opts.appToken) {
        await app.start();
        return { port: opts.port };
      }
      server = await app.start(opts.port);
      return { port: server.address().port };
    },
    async stop() {
      await app.stop();
    },
    async announce(channel, what) {
      const message = renderAnnouncement(what, opts.services.topology);
      const result = await app.client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        metadata: message.metadata,
        unfurl_links: false,
        unfurl_media: false
      });
      return { ts: String(result.ts) };
    },
    async userName(userId) {
      try {
        const { user } = await app.client.users.info({ user: userId });
        return user?.real_name || user?.profile?.real_name || user?.name || userId;
      } catch (error2) {
        opts.logger.warn(`users.info failed for ${userId}: ${error2.message}`);
        return userId;
      }
    }
  };
}
async function checkBotToken(init, apiUrl) {
  try {
    await init();
  } catch (error2) {
    const code = error2.data?.error;
    if (typeof code === "string") {
      throw new Error(
        `Slack rejected SLACK_BOT_TOKEN (${code}). Copy the Bot User OAuth Token (xoxb-\u2026) from your Slack app's OAuth & Permissions page into .env (reinstall the app to the workspace if it was revoked), or try \`npm run demo\`.`
      );
    }
    throw new Error(`Could not reach Slack at ${apiUrl} to check SLACK_BOT_TOKEN (${error2.message}). Check the network or SLACK_API_URL.`);
  }
}
function boltLogger(log) {
  let level = LogLevel.INFO;
  const join = (msg) => msg.map((m) => typeof m === "string" ? m : m instanceof Error ? m.message : JSON.stringify(m)).join(" ");
  return {
    debug: (...msg) => log.debug(join(msg)),
    info: (...msg) => log.info(join(msg)),
    warn: (...msg) => log.warn(join(msg)),
    error: (...msg) => log.error(join(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => void 0
  };
}

// src/main.ts
var STARTUP_FAILURE_EXIT_CODE = 1;
var StartupError = class extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
    this.name = "StartupError";
  }
  exitCode;
};
async function startBot(config, opts = {}) {
  const log = opts.logger ?? createLogger({ level: config.logLevel });
  const secrets = [config.slack.botToken, config.slack.signingSecret, config.slack.appToken];
  const gitErrorGist = (error2) => error2 instanceof GitError ? scrubSecrets(error2.gist, secrets) : null;
  let lock;
  try {
    lock = await acquireDataDirLock(config.dataDir);
  } catch (error2) {
    if (error2 instanceof DataDirLockedError) throw new StartupError(error2.message, STARTUP_FAILURE_EXIT_CODE);
    throw error2;
  }
  let state;
  try {
    state = await openStateStore(config.dataDir);
  } catch (error2) {
    await lock.release();
    if (error2 instanceof StateFileCorruptError) throw new StartupError(error2.message, STARTUP_FAILURE_EXIT_CODE);
    throw error2;
  }
  const topology = new Topology(config.publishers, config.consumers, config.admins);
  const catalog = new StateCatalog(state);
  const git = createGitRunner(config.git.env);
  const repos = /* @__PURE__ */ new Map();
  const workspaces = new ConsumerWorkspaces((consumer) => {
    let repo = repos.get(consumer.name);
    if (!repo) {
      repo = new ConsumerRepo(git, path8.join(config.dataDir, "repos", safeDirName(consumer.name)), consumer.repo, consumer.branch);
      repos.set(consumer.name, repo);
    }
    return repo;
  });
  const inspectVersion = (publishDir, version, o) => scanVersion(publishDir, version, o);
  let userName = async (id) => id;
  const pins = new PinsService({ topology, catalog, workspaces, inspectVersion });
  const adopt = new AdoptService({
    topology,
    catalog,
    workspaces,
    inspectVersion,
    userName: (id) => userName(id),
    recordAdoption: (record) => state.appendAdoption(record),
    afterChange: (consumer) => pins.invalidate(consumer),
    committer: { name: config.git.name, email: config.git.email },
    gitErrorGist
  });
  let ready = false;
  const scanner = new ScanAndAnnounce({
    publishers: topology.publishers,
    scan: (dir, o) => scanPublishDir(dir, o),
    state,
    announce: (channel, what) => slack.announce(channel, what),
    onVersionsChanged: () => catalog.invalidate(),
    log: log.child({ component: "scanner" })
  });
  const slack = createSlackApp({
    botToken: config.slack.botToken ?? "",
    ...config.slack.signingSecret ? { signingSecret: config.slack.signingSecret } : {},
    ...config.slack.appToken ? { appToken: config.slack.appToken } : {},
    apiUrl: config.slack.apiUrl,
    port: config.slack.port,
    ...opts.retryConfig ? { retryConfig: opts.retryConfig } : {},
    logger: log,
    services: {
      topology,
      catalog,
      adopt,
      pins,
      adoptions: (filter) => state.adoptions(filter),
      inspectVersion,
      gitErrorGist,
      log: log.child({ component: "slack" })
    },
    health: () => {
      const status = scanner.status();
      if (!ready) return { status: 503, body: { ok: false, status: "starting", ...status } };
      return { status: 200, body: { ok: true, ...status, publishers: topology.publishers.length, consumers: topology.consumers.length } };
    }
  });
  userName = slack.userName;
  let started;
  try {
    started = await slack.start();
  } catch (error2) {
    await state.close();
    await lock.release();
    throw new StartupError(`Could not start the Slack app: ${scrubSecrets(String(error2.message ?? error2), secrets)}`, STARTUP_FAILURE_EXIT_CODE);
  }
  const watchers = [];
  let job;
  const scanNow = async () => {
    const summary = await scanner.trigger();
    followUnfinished(summary);
    return summary;
  };
  const scanAndLog = () => scanNow().catch((error2) => {
    log.error({ err: error2 }, "scan failed");
  });
  const followUnfinished = (summary) => {
    topology.publishers.forEach((publisher, i) => {
      const unfinished = summary.pending.filter((p) => p.publisher === publisher.name).map((p) => p.version);
      watchers[i]?.watchVersions(unfinished.map((v) => v.version));
      const settling = unfinished.filter((v) => v.settling);
      if (settling.length) {
        watchers[i]?.wakeAt(Math.min(...settling.map((v) => v.lastChangeMs + publisher.settleSeconds * 1e3)) + 50);
      }
    });
  };
  log.info({ publishers: topology.publishers.length, consumers: topology.consumers.length, port: started.port }, "smvbot starting: first scan");
  await scanNow();
  ready = true;
  if (!opts.manualScans) {
    for (const publisher of topology.publishers) {
      watchers.push(watchPublishDir(publisher.publishDir, () => void scanAndLog()));
    }
    job = schedule(config.scan.schedule, scanAndLog, (error2) => log.error({ err: error2 }, "scheduled scan failed"));
  }
  log.info({ port: started.port }, "smvbot ready");
  let stopping;
  return {
    port: started.port,
    scanNow,
    state,
    stop() {
      stopping ??= (async () => {
        ready = false;
        await job?.stop();
        for (const w of watchers) w.close();
        await slack.stop();
        await scanner.idle();
        await workspaces.drain();
        await state.close();
        await lock.release();
        log.info({}, "smvbot stopped");
      })();
      return stopping;
    }
  };
}
function safeDirName(name) {
  return name.replace(/[^A-Za-z0-9._-]/g, "_");
}
async function main() {
  const loaded = loadConfig({ requireSlack: true });
  if (!loaded.ok) {
    process.stderr.write(formatConfigProblems(loaded.problems) + "\n");
    process.exit(CONFIG_EXIT_CODE);
  }
  let bot;
  let stopAsked = false;
  const stop = (running) => {
    running.stop().then(
      () => process.exit(0),
      (error2) => {
        process.stderr.write(`smvbot: error while stopping: ${String(error2)}
`);
        process.exit(1);
      }
    );
  };
  const onSignal = (signal) => {
    stopAsked = true;
    process.stderr.write(`smvbot: ${signal} received, stopping${bot ? "" : " once start-up has finished"}
`);
    if (bot) stop(bot);
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));
  try {
    bot = await startBot(loaded.config);
  } catch (error2) {
    if (error2 instanceof StartupError) {
      process.stderr.write(`smvbot cannot start: ${error2.message}
`);
      process.exit(error2.exitCode);
    }
    throw error2;
  }
  if (stopAsked) stop(bot);
}
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
export {
  STARTUP_FAILURE_EXIT_CODE,
  StartupError,
  startBot
};
