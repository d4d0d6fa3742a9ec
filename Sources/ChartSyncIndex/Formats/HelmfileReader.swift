import ChartSyncBasics
import ChartSyncCore

/// Reads one helmfile file statically into a `Helmfile`: `repositories:` (name, url, oci),
/// `releases:` (name, chart, version, `installed:`, values and secrets files; `<<: *anchor` and
/// `inherit:` followed), `helmfiles:` (strings or `path:`), `bases:`, `environments:` (values and
/// secrets files, `missingFileHandler`). Other keys are left alone (helmfile has many).
/// Go-template actions are never evaluated: each is listed with its line and what it depends on,
/// and blanked before the YAML is read (a line holding only actions is dropped, an action inside
/// a line stands for an unknown value and is kept as written in what is read). `---`-separated
/// parts are read one by one, as helmfile does; a part that cannot be read is listed in
/// `invalid` and the rest is still read.
public enum HelmfileReader {
    /// Reads the helmfile file at `path` (at most 16 MiB); `source` names it in messages (the
    /// path when nil). Throws only when the file cannot be read.
    public static func read(path: String, source: String? = nil) throws(FileSystemError) -> Helmfile {
        parse(try FileSystem.readFile(path, limit: 16 << 20), source: source ?? path)
    }

    /// Reads a helmfile file's bytes; `source` names it in messages. Never throws: what cannot
    /// be read is listed in `invalid`.
    public static func parse(_ bytes: [UInt8], source: String) -> Helmfile {
        let (text, templates) = HelmfileTemplateScanner.blank(bytes)
        var builder = HelmfileBuilder(templates: templates)
        for part in parts(text) {
            let templated = templates.contains { part.lines.contains($0.line) }
            do {
                guard let node = try YAMLDocument.load(part.padded, source: source) else { continue }
                builder.read(node, templated: templated)
            } catch {
                builder.helmfile.invalid.append(.init(line: error.line, message: error.message, templated: templated))
            }
        }
        if !templates.isEmpty {
            for part in parts(bytes) {
                do {
                    _ = try YAMLDocument.load(part.padded, source: source)
                } catch {
                    builder.helmfile.invalidAsWritten = .init(line: error.line, message: error.message, templated: true)
                    break
                }
            }
        }
        builder.helmfile.templates = templates
        return builder.helmfile
    }

    /// The `---`-separated parts of the text, each padded with leading newlines so libyaml's line
    /// numbers are the file's, with the lines it spans; blank parts are left out.
    private static func parts(_ text: [UInt8]) -> [(padded: [UInt8], lines: ClosedRange<Int>)] {
        var result: [(padded: [UInt8], lines: ClosedRange<Int>)] = []
        var current: [UInt8] = []
        var start = 1
        var line = 1
        var lineStart = 0
        func finish(last: Int) {
            if !current.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }) {
                result.append(([UInt8](repeating: 0x0a, count: start - 1) + current, start...max(start, last)))
            }
        }
        for index in 0...text.count where index == text.count || text[index] == 0x0a {
            let content = text[lineStart..<index]
            let isSeparator = content.starts(with: Array("---".utf8))
                && content.dropFirst(3).allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }
            if isSeparator {
                finish(last: line - 1)
                current = []
                start = line + 1
            } else {
                current += content
                if index < text.count { current.append(0x0a) }
            }
            line += 1
            lineStart = index + 1
        }
        finish(last: line - 1)
        return result
    }
}

/// Builds a `Helmfile` from the parts of one file, read with template actions blanked.
private struct HelmfileBuilder {
    /// What has been read so far.
    var helmfile = Helmfile()
    /// Every action of the file; placeholder number N stands for `templates[N]`.
    let templates: [Helmfile.Template]
    /// Release templates (`templates:`) by name, for `inherit:`.
    private var releaseTemplates: [String: YAMLNode] = [:]

    init(templates: [Helmfile.Template]) {
        self.templates = templates
    }

    /// `text` with each placeholder replaced by the action it stands for, as written.
    func restored(_ text: String) -> String {
        let placeholder = HelmfileTemplateScanner.placeholder
        guard text.contains(placeholder) else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: placeholder) {
            out += rest[..<range.lowerBound]
            rest = rest[range.upperBound...]
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let number = Int(digits), templates.indices.contains(number), rest.dropFirst(digits.count).hasPrefix("__") else {
                out += placeholder
                continue
            }
            out += templates[number].text
            rest = rest.dropFirst(digits.count + 2)
        }
        return out + rest
    }

    /// Whether a template action lies inside `node` (on its lines, or in one of its scalars): a
    /// line holding only actions was dropped before the YAML was read, so what is left of the
    /// node may not be what helmfile renders.
    private func isTemplated(_ node: YAMLNode) -> Bool {
        let last = InlineValues.lastLine(node)
        if templates.contains(where: { $0.line >= node.line && $0.line <= last && !$0.isComment }) { return true }
        return InlineValues.scalars(node).contains { Helmfile.isTemplated(restored($0)) }
    }

    /// A scalar's text as written; nil for null or a collection.
    private func text(_ node: YAMLNode?) -> String? {
        guard let node, !node.isNull else { return nil }
        return node.scalar.map(restored)
    }

    private mutating func problem(_ line: Int, _ message: String, templated: Bool) {
        helmfile.invalid.append(.init(line: line, message: message, templated: templated))
    }

    /// Takes what chartsync needs from one part's top-level mapping.
    mutating func read(_ node: YAMLNode, templated: Bool) {
        guard let pairs = node.pairs else {
            problem(node.line, "expected a mapping (releases:, helmfiles:, ...), found \(node.kindName)", templated: templated)
            return
        }
        for pair in node["templates"]?.pairs ?? [] { releaseTemplates[pair.key] = pair.value }
        for pair in pairs {
            switch pair.key {
            case "repositories": readRepositories(pair.value, templated: templated)
            case "releases": readReleases(pair.value, templated: templated)
            case "helmfiles": readReferences(pair.value, kind: .helmfile, templated: templated)
            case "bases": readReferences(pair.value, kind: .base, templated: templated)
            case "environments": readEnvironments(pair.value)
            default: continue
            }
        }
    }

    private mutating func readRepositories(_ node: YAMLNode, templated: Bool) {
        for item in node.items ?? [] {
            guard let name = text(item["name"]) else {
                problem(item.line, "a repository needs a name", templated: templated)
                continue
            }
            var oci = false
            if let flag = item["oci"] {
                do {
                    oci = try IndexFields(flag, path: "repositories[].oci", source: "").bool()
                } catch {
                    problem(flag.line, error.message, templated: templated)
                }
            }
            helmfile.repositories.append(.init(name: name, url: text(item["url"]) ?? "", oci: oci, line: item.line))
        }
    }

    private mutating func readReleases(_ node: YAMLNode, templated: Bool) {
        if node.isNull { return }
        guard let items = node.items else {
            problem(node.line, "releases: expected a list, found \(node.kindName)", templated: templated)
            return
        }
        for item in items {
            guard item.pairs != nil else {
                if !(item.scalar.map(restored).map(Helmfile.isTemplated) ?? false) {
                    problem(item.line, "a release must be a mapping, found \(item.kindName)", templated: templated)
                }
                continue
            }
            // A key of the release itself, else of what it merges (`<<: *anchor`) or inherits.
            var sources = [item]
            for merged in [item["<<"]].compactMap({ $0 }) { sources += merged.items ?? [merged] }
            var inheritsUnknown = false
            for inherit in item["inherit"]?.items ?? [] {
                if let name = inherit["template"]?.scalar, let template = releaseTemplates[name] {
                    sources.append(template)
                } else {
                    inheritsUnknown = true
                }
            }
            func pair(_ key: String) -> YAMLPair? {
                for source in sources {
                    if let found = source.pairs?.first(where: { $0.key == key }) { return found }
                }
                return nil
            }
            let chart = pair("chart"), version = pair("version")
            let name = text(item["name"]) ?? "(unnamed)"
            var release = Helmfile.Release(
                name: name, line: item.line, chart: text(chart?.value),
                chartLine: chart?.keyLine, version: text(version?.value), versionLine: version?.keyLine,
                uninstalled: pair("installed")?.value.scalar == "false", inheritsUnknown: inheritsUnknown)
            for (key, secrets) in [("values", false), ("secrets", true)] {
                for entry in pair(key)?.value.items ?? [] {
                    if let path = text(entry) {
                        helmfile.files.append(.init(path: path, line: entry.line, kind: .release(name, secrets: secrets)))
                        if secrets { release.secrets.append(.file(path, line: entry.line)) } else { release.values.append(.file(path, line: entry.line)) }
                    } else if !secrets, entry.pairs != nil {
                        release.values.append(.inline(InlineValues.flowText(entry, restored: restored), line: entry.line,
                                                      templated: isTemplated(entry)))
                    } else if !entry.isNull {
                        if secrets { release.secrets.append(.invalid(line: entry.line)) } else { release.values.append(.invalid(line: entry.line)) }
                    }
                }
            }
            for entry in pair("set")?.value.items ?? [] {
                let setName = text(entry["name"])
                var value = Helmfile.Release.SetEntry.Value.none
                if let given = text(entry["value"]) {
                    value = .value(given)
                } else if let items = entry["values"]?.items, items.allSatisfy({ $0.scalar != nil }) {
                    value = .values(items.compactMap { $0.scalar.map(restored) })
                } else if let file = text(entry["file"]) {
                    value = .file(file)
                }
                release.set.append(.init(name: setName, value: value, line: entry.line, templated: isTemplated(entry)))
            }
            release.missingFileHandler = text(pair("missingFileHandler")?.value)
            for key in ["valuesTemplate", "setTemplate"] {
                if let found = pair(key), !found.value.isNull { release.templatedValueKeys.append(.init(key: key, line: found.keyLine)) }
            }
            helmfile.releases.append(release)
        }
    }

    /// Path entries of `helmfiles:` or `bases:` (strings; for helmfiles also `- path: x`).
    private mutating func readReferences(_ node: YAMLNode, kind: Helmfile.File.Kind, templated: Bool) {
        if node.isNull { return }
        let key = kind == .helmfile ? "helmfiles" : "bases"
        guard let items = node.items else {
            problem(node.line, "\(key): expected a list, found \(node.kindName)", templated: templated)
            return
        }
        for item in items {
            if let path = text(item) {
                helmfile.files.append(.init(path: path, line: item.line, kind: kind))
            } else if kind == .helmfile, let entry = item["path"], let path = text(entry) {
                helmfile.files.append(.init(path: path, line: entry.line, kind: kind))
            } else {
                problem(item.line, "\(key): expected a path\(kind == .helmfile ? " or path: PATH" : ""), found \(item.kindName)",
                        templated: templated)
            }
        }
    }

    private mutating func readEnvironments(_ node: YAMLNode) {
        for environment in node.pairs ?? [] {
            let handler = environment.value["missingFileHandler"]?.scalar
            let tolerant = handler != nil && handler != "Error"
            for (key, secrets) in [("values", false), ("secrets", true)] {
                for item in environment.value[key]?.items ?? [] {
                    guard let path = text(item) else { continue }   // inline values are not files
                    helmfile.files.append(.init(path: path, line: item.line, kind: .environment(restored(environment.key), secrets: secrets),
                                                missingAllowed: tolerant))
                }
            }
        }
    }
}

/// A release's inline values mapping carried as YAML text, so it is read like a values file.
enum InlineValues {
    /// `node` as a one-line YAML flow collection that reads back as the same values: keys double-
    /// quoted (a merge key `<<` stays plain), scalars plain when they were plain and hold nothing
    /// a flow collection or a key would take for syntax (such a scalar is never a number, boolean
    /// or null, so quoting it keeps its type), else double-quoted.
    static func flowText(_ node: YAMLNode, restored: (String) -> String) -> String {
        switch node.value {
        case .scalar(let text, let plain):
            if node.isNull { return "null" }
            let value = restored(text)
            if plain, !value.isEmpty, isSafePlain(value) { return value }
            return Quoting.doubleQuoted(value)
        case .mapping(let pairs):
            return "{" + pairs.map { (($0.key == "<<") ? "<<" : Quoting.doubleQuoted(restored($0.key))) + ": " + flowText($0.value, restored: restored) }
                .joined(separator: ", ") + "}"
        case .sequence(let items):
            return "[" + items.map { flowText($0, restored: restored) }.joined(separator: ", ") + "]"
        }
    }

    /// A plain scalar that can stay plain inside a flow collection.
    private static func isSafePlain(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.first, first != " ", scalars.last != " " else { return false }
        if "?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) { return false }
        if first == "-", scalars.count == 1 || scalars[1] == " " { return false }
        return !scalars.contains { ",[]{}#:\"'".unicodeScalars.contains($0) || $0.value < 0x20 || $0.value == 0x7f }
    }

    /// The last line any part of `node` is on.
    static func lastLine(_ node: YAMLNode) -> Int {
        switch node.value {
        case .scalar: return node.line
        case .mapping(let pairs): return pairs.map { max($0.keyLine, lastLine($0.value)) }.max() ?? node.line
        case .sequence(let items): return items.map(lastLine).max() ?? node.line
        }
    }

    /// Every scalar of `node` (keys included).
    static func scalars(_ node: YAMLNode) -> [String] {
        switch node.value {
        case .scalar(let text, _): return [text]
        case .mapping(let pairs): return pairs.flatMap { [$0.key] + scalars($0.value) }
        case .sequence(let items): return items.flatMap(scalars)
        }
    }
}

/// Finds Go-template actions in a helmfile text and blanks them so the rest reads as YAML.
enum HelmfileTemplateScanner {
    /// What an inline action becomes: this, its number among the file's actions, and `__`.
    static let placeholder = "__chartsync_template_"

    /// The text with every action removed (a line holding only actions and whitespace becomes
    /// empty; an action inside a line becomes a numbered placeholder; line breaks inside an
    /// action are kept, so lines keep their numbers), and every action, in order.
    static func blank(_ bytes: [UInt8]) -> (text: [UInt8], templates: [Helmfile.Template]) {
        let open: [UInt8] = [0x7b, 0x7b]   // {{
        guard bytes.firstRange(of: open) != nil else { return (bytes, []) }
        var actions: [(start: Int, end: Int, line: Int)] = []   // end: one past the closing }}
        var index = 0
        var line = 1
        while index < bytes.count {
            if bytes[index] == 0x0a { line += 1 }
            if bytes[index] == 0x7b, index + 1 < bytes.count, bytes[index + 1] == 0x7b {
                let end = closing(bytes, from: index + 2)
                actions.append((index, end, line))
                line += bytes[index..<end].filter { $0 == 0x0a }.count
                index = end
                continue
            }
            index += 1
        }
        var templates: [Helmfile.Template] = []
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var position = 0
        for (number, action) in actions.enumerated() {
            out += bytes[position..<action.start]
            let text = String(decoding: bytes[action.start..<action.end], as: UTF8.self)
            // A comment or a bare end/else yields no text; anything else stands for a value.
            let why = reason(text)
            templates.append(.init(line: action.line, text: text, reason: why))
            if why != nil { out += Array((placeholder + "\(number)__").utf8) }
            out += Array(repeating: 0x0a, count: bytes[action.start..<action.end].filter { $0 == 0x0a }.count)
            position = action.end
        }
        out += bytes[position...]
        // A line holding only placeholders and whitespace is control flow or a comment: dropped.
        var lines = out.split(separator: 0x0a, omittingEmptySubsequences: false)
        for i in lines.indices {
            var rest = String(decoding: lines[i], as: UTF8.self)
            guard rest.contains(placeholder) else { continue }
            while let range = rest.range(of: placeholder) {
                let tail = rest[range.upperBound...]
                let end = tail.range(of: "__").map(\.upperBound) ?? tail.endIndex
                rest.removeSubrange(range.lowerBound..<end)
            }
            if rest.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { lines[i] = [] }
        }
        return (Array(lines.joined(separator: [0x0a])), templates)
    }

    /// One past the `}}` closing the action whose body starts at `from` (quotes and comments
    /// inside it skipped); the end of the text when it is not closed.
    private static func closing(_ bytes: [UInt8], from: Int) -> Int {
        var index = from
        var quote: UInt8? = nil
        while index < bytes.count {
            let byte = bytes[index]
            if let q = quote {
                if byte == 0x5c && q == 0x22 { index += 2; continue }   // \ in "..."
                if byte == q { quote = nil }
            } else if byte == 0x22 || byte == 0x60 {                  // " or `
                quote = byte
            } else if byte == 0x2f, index + 1 < bytes.count, bytes[index + 1] == 0x2a {   // /* comment */
                var j = index + 2
                while j + 1 < bytes.count && !(bytes[j] == 0x2a && bytes[j + 1] == 0x2f) { j += 1 }
                index = j + 2
                continue
            } else if byte == 0x7d, index + 1 < bytes.count, bytes[index + 1] == 0x7d {
                return index + 2
            }
            index += 1
        }
        return bytes.count
    }

    /// Why an action cannot be evaluated statically; nil for comments and bare `end`/`else`.
    static func reason(_ action: String) -> String? {
        var body = Substring(action.dropFirst(2))
        if body.hasSuffix("}}") { body = body.dropLast(2) }
        body = body.drop { $0 == "-" || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        while let last = body.last, last == "-" || last == " " || last == "\t" || last == "\n" || last == "\r" { body = body.dropLast() }
        if body.hasPrefix("/*") || body == "end" || body == "else" || body.isEmpty { return nil }
        let words = body.split { !($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "$") }.map(String.init)
        func uses(_ word: String) -> Bool { words.contains(word) }
        func uses(prefix: String) -> Bool { words.contains { $0.hasPrefix(prefix) } }
        var reasons: [String] = []
        if uses(prefix: ".Environment") { reasons.append("the helmfile environment (.Environment)") }
        if uses("requiredEnv") || uses("env") { reasons.append("an environment variable") }
        if uses("exec") { reasons.append("a command's output (exec)") }
        if uses("readFile") || uses("readDir") || uses("readDirEntries") { reasons.append("a file's content (readFile)") }
        if uses("lookup") || uses("fetchSecretValue") || uses("expandSecretRefs") || uses("kubectl") {
            reasons.append("a live cluster or secret store")
        }
        if uses(prefix: ".Values") || uses(prefix: ".StateValues") || uses(prefix: "$.Values") { reasons.append("state values (.Values)") }
        if uses(prefix: ".Release") || uses(prefix: ".Namespace") { reasons.append("the release being rendered (.Release)") }
        let keyword = words.first ?? ""
        if ["if", "else", "range", "with", "define", "template", "block"].contains(keyword) {
            reasons.append("control flow (`\(keyword)`): every branch's static text is read")
        }
        return reasons.isEmpty ? "template variables or functions" : reasons.joined(separator: ", ")
    }
}
