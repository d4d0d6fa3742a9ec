import ChartSyncCore
import ChartSyncTemplate

/// Whether a point of a template is rendered with default values.
enum Liveness: Sendable, Equatable {
    /// Rendered.
    case on
    /// Behind a condition chartsync cannot evaluate: taken as rendered.
    case maybe
    /// Not rendered; the text says which condition is false.
    case off(String)

    /// This state inside a branch whose own state is `inner`.
    func entering(_ inner: Liveness) -> Liveness {
        switch (self, inner) {
        case (.off, _): return self
        case (_, .off): return inner
        case (.maybe, _), (_, .maybe): return .maybe
        default: return .on
        }
    }

    /// Whether the point counts as rendered (on, or maybe).
    var isLive: Bool { if case .off = self { return false } else { return true } }
}

/// An `image:` line of a template: where it is and its value's raw text.
struct ImageLine: Sendable {
    /// Byte offset of the line's first byte in the file.
    let start: Int
    /// 1-based line number.
    let line: Int
    /// The key (`image`, `initImage`).
    let key: String
    /// The value after the colon, as written (may hold template actions).
    let value: String
    /// The value parsed as a template, once, when it holds `{{`.
    let template: Result<GoTemplate, GoTemplate.ParseError>?

    /// The lines of `bytes` that set a key `image` or `<name>Image` (a YAML key, possibly as a
    /// list item `- image:`, quoted or not) to a value on the same line; a value that opens a
    /// block or flow collection, an anchor, alias or tag, or a comment, is not a value here.
    static func find(in bytes: [UInt8]) -> [ImageLine] {
        var found: [ImageLine] = []
        var start = 0
        var number = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            if let line = parse(bytes[start..<end], start: start, number: number) { found.append(line) }
            start = end + 1
            number += 1
        }
        return found
    }

    static func isImageKey(_ key: String) -> Bool {
        if key == "image" { return true }
        guard key.hasSuffix("Image"), key.count > 5 else { return false }
        let before = key[key.index(key.endIndex, offsetBy: -6)]
        return before.isLowercase || before.isNumber
    }

    private static func parse(_ line: ArraySlice<UInt8>, start: Int, number: Int) -> ImageLine? {
        var i = line.startIndex
        func skipSpaces() { while i < line.endIndex, line[i] == 0x20 || line[i] == 0x09 { i += 1 } }
        skipSpaces()
        if i < line.endIndex, line[i] == 0x2D, i + 1 < line.endIndex, line[i + 1] == 0x20 { i += 1; skipSpaces() }
        var quote: UInt8?
        if i < line.endIndex, line[i] == 0x22 || line[i] == 0x27 { quote = line[i]; i += 1 }
        let keyStart = i
        while i < line.endIndex, TemplateLexer.isIdentifierByte(line[i]) { i += 1 }
        let key = String(decoding: line[keyStart..<i], as: UTF8.self)
        guard isImageKey(key) else { return nil }
        if let quote {
            guard i < line.endIndex, line[i] == quote else { return nil }
            i += 1
        }
        skipSpaces()
        guard i < line.endIndex, line[i] == 0x3A else { return nil }
        i += 1
        guard i == line.endIndex || line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D else { return nil }
        let value = String(decoding: line[i...], as: UTF8.self).trimmingSpaces
        guard let first = value.first else { return nil }
        if "#|>&*![".contains(first) { return nil }
        if first == "{" && !value.hasPrefix("{{") { return nil }
        let template = value.contains("{{")
            ? Result { () throws(GoTemplate.ParseError) in try GoTemplate(bytes: Array(value.utf8), firstLine: number) } : nil
        return ImageLine(start: start, line: number, key: key, value: value, template: template)
    }
}

/// What an `image:` line of a template gave.
struct TemplateImageResult: Sendable {
    /// What was learned.
    enum Outcome: Sendable {
        /// A reference (literal, or rendered from default values).
        case image(ImageReference)
        /// Rendered to text that is not an image reference.
        case invalid(String, ImageReferenceError)
        /// Needs more than default values; the reason.
        case unknown(String)
    }

    /// The file's entry name.
    let file: String
    /// The 1-based line.
    let line: Int
    /// The value as written.
    let written: String
    /// Whether the line is rendered with default values.
    let liveness: Liveness
    /// What the line gave.
    let outcome: Outcome
    /// The `.Values` paths the value reads (evaluated, and as written).
    let reads: Set<String>
    /// Unquoted numbers the value rendered as written where Helm renders them otherwise.
    let numbers: [(path: String, written: String, helm: String)]
}

/// Walks a chart's templates with its default values, following `if`/`with`/`range` conditions
/// and `include`s of named templates, and evaluates every `image:` line it meets.
struct TemplateImageFinder {
    /// The chart's values, Chart.yaml and the named templates of the tree.
    let context: TemplateContext
    /// Image lines of each file, by entry name.
    let linesByFile: [String: [ImageLine]]
    /// What the walk found (one per file, line and liveness).
    private(set) var results: [TemplateImageResult] = []
    private var seen = Set<String>()
    private var visiting: [String] = []

    init(context: TemplateContext, linesByFile: [String: [ImageLine]]) {
        self.context = context
        self.linesByFile = linesByFile
    }

    /// Walks one template file from its top.
    mutating func walk(file: String, nodes: [GoTemplate.Node]) {
        _ = walk(nodes, file: file, scope: .top, liveness: .on)
    }

    /// Takes back a body's assignments to outer variables: as they are when the body surely ran,
    /// as unknown when it may have run, not at all when it did not.
    private static func leave(_ scope: inout TemplateScope, _ inner: TemplateScope, _ state: Liveness) {
        switch state {
        case .on: scope.leave(inner)
        case .maybe: scope.leave(inner, certain: false)
        case .off: break
        }
    }

    /// Walks `nodes` and returns the scope at their end (with the variables they set).
    private mutating func walk(_ nodes: [GoTemplate.Node], file: String, scope: TemplateScope, liveness: Liveness) -> TemplateScope {
        var scope = scope
        for node in nodes {
            switch node {
            case .text(_, let rawStart, let rawEnd):
                let lines = linesByFile[file] ?? []
                // Lines are in file order: find the first at or after rawStart.
                var low = 0, high = lines.count
                while low < high {
                    let middle = (low + high) / 2
                    if lines[middle].start < rawStart { low = middle + 1 } else { high = middle }
                }
                var index = low
                while index < lines.count, lines[index].start < rawEnd {
                    evaluate(lines[index], file: file, scope: scope, liveness: liveness)
                    index += 1
                }
            case .action(let action):
                var evaluator = TemplateEvaluator(context: context)
                if case .success(let pipeline) = action.pipeline {
                    if !pipeline.variables.isEmpty {
                        let value = (try? evaluator.evaluate(pipeline.expression, scope)) ?? .opaque(path: nil)
                        for name in pipeline.variables { scope.set(name, value, declaring: pipeline.declares) }
                    }
                    followIncludes(in: pipeline.expression, scope: scope, liveness: liveness)
                }
            case .branch(let arms, let otherwise):
                // Whether an earlier arm surely ran (then the rest is off) or may have run.
                var earlierSurely = false
                var earlierMaybe = false
                for arm in arms {
                    var inner = scope.entering()
                    var evaluator = TemplateEvaluator(context: context)
                    var state: Liveness
                    var value: TemplateValue = .opaque(path: nil)
                    if earlierSurely {
                        state = .off("an earlier branch of {{ \(arms[0].keyword) \(arms[0].action.text) }} is taken")
                    } else {
                        do {
                            value = try evaluator.condition(arm.action, scope: &inner)
                            let isTrue = try evaluator.truth(of: value)
                            if isTrue {
                                state = earlierMaybe ? .maybe : .on
                                earlierSurely = !earlierMaybe
                            } else {
                                state = .off("{{ \(arm.keyword) \(arm.action.text) }} is false")
                            }
                        } catch {
                            state = .maybe
                            earlierMaybe = true
                        }
                    }
                    if arm.keyword == "with" { inner.dot = state.isLive ? value : .opaque(path: nil) }
                    let after = walk(arm.body, file: file, scope: inner, liveness: liveness.entering(state))
                    Self.leave(&scope, after, state)
                }
                if let otherwise {
                    let state: Liveness = earlierSurely
                        ? .off("an earlier branch of {{ \(arms[0].keyword) \(arms[0].action.text) }} is taken")
                        : (earlierMaybe ? .maybe : .on)
                    let after = walk(otherwise, file: file, scope: scope.entering(), liveness: liveness.entering(state))
                    Self.leave(&scope, after, state)
                }
            case .range(let arm, let otherwise):
                var inner = scope.entering()
                var evaluator = TemplateEvaluator(context: context)
                var state: Liveness = .maybe
                var itemPath: String?
                if let value = try? evaluator.condition(arm.action, scope: &inner) {
                    if case .node(_, let path) = value { itemPath = path }
                    if case .opaque(let path) = value { itemPath = path }
                    if let isTrue = try? evaluator.truth(of: value), !isTrue {
                        state = .off("{{ range \(arm.action.text) }} has nothing to loop over")
                    }
                }
                // Loop variables and `.` stand for items of the list (or map) that was ranged over.
                inner.dot = .opaque(path: itemPath)
                if case .success(let pipeline) = arm.action.pipeline {
                    for name in pipeline.variables { inner.set(name, .opaque(path: itemPath), declaring: true) }
                }
                let after = walk(arm.body, file: file, scope: inner, liveness: liveness.entering(state))
                Self.leave(&scope, after, state.isLive ? .maybe : state)
                if let otherwise {
                    let elseState: Liveness = state.isLive ? .maybe : .on
                    let afterElse = walk(otherwise, file: file, scope: scope.entering(), liveness: liveness.entering(elseState))
                    Self.leave(&scope, afterElse, elseState)
                }
            case .define:
                break
            case .block(_, let argument, let body):
                var evaluator = TemplateEvaluator(context: context)
                var inner = scope
                var value: TemplateValue = .opaque(path: nil)
                if let known = try? evaluator.run(argument, scope: &inner) { value = known }
                _ = walk(body, file: file, scope: TemplateScope(dot: value, variables: ["$": value]), liveness: liveness)
            }
        }
        return scope
    }

    /// Walks the named templates an action includes (`include "name" arg`, `template "name" arg`),
    /// with `arg` as their data, so that `image:` lines inside them are met where they are used.
    private mutating func followIncludes(in expression: TemplateExpression, scope: TemplateScope, liveness: Liveness) {
        switch expression {
        case .call(let name, let arguments):
            for argument in arguments { followIncludes(in: argument, scope: scope, liveness: liveness) }
            guard name == "include" || name == "template", arguments.count == 2, case .string(let template) = arguments[0],
                  let defined = context.defines[template] else { return }
            var evaluator = TemplateEvaluator(context: context)
            let data = (try? evaluator.evaluate(arguments[1], scope)) ?? .opaque(path: nil)
            let category: String
            switch liveness {
            case .on: category = "on"
            case .maybe: category = "maybe"
            case .off: category = "off"
            }
            let key = "\(template)|\(category)|\(Self.kind(data))"
            guard visiting.count < 16, !visiting.contains(template), seen.insert(key).inserted else { return }
            visiting.append(template)
            _ = walk(defined.body, file: defined.file, scope: TemplateScope(dot: data, variables: ["$": data]), liveness: liveness)
            visiting.removeLast()
        case .pipe(let stages):
            for stage in stages { followIncludes(in: stage, scope: scope, liveness: liveness) }
        case .field(.expression(let inner), _):
            followIncludes(in: inner, scope: scope, liveness: liveness)
        default:
            break
        }
    }

    private static func kind(_ value: TemplateValue) -> String {
        switch value {
        case .root: return "root"
        case .subchart(let path): return "subchart:" + path.joined(separator: ".")
        case .node(_, let path): return "values:" + path
        default: return "other"
        }
    }

    /// Evaluates one `image:` line at a point of the walk.
    private mutating func evaluate(_ line: ImageLine, file: String, scope: TemplateScope, liveness: Liveness) {
        let key = "\(file)|\(line.line)|\(liveness.isLive)"
        guard seen.insert(key).inserted else { return }
        var reads = Self.writtenReads(line.value)
        var numbers: [(path: String, written: String, helm: String)] = []
        let outcome: TemplateImageResult.Outcome
        if let parsed = line.template {
            var evaluator = TemplateEvaluator(context: context)
            do throws(TemplateUnknown) {
                guard case .success(let template) = parsed else {
                    throw TemplateUnknown("has an action that does not end on its line")
                }
                var inner = scope
                let text = try evaluator.render(template.nodes, scope: &inner)
                outcome = Self.reference(Self.yamlScalar(text))
            } catch {
                outcome = .unknown(error.reason)
            }
            reads.formUnion(evaluator.reads)
            numbers = evaluator.numbers
        } else {
            outcome = Self.reference(Self.yamlScalar(line.value))
        }
        results.append(TemplateImageResult(file: file, line: line.line, written: line.value, liveness: liveness, outcome: outcome,
                                           reads: reads, numbers: numbers))
    }

    private static func reference(_ text: String) -> TemplateImageResult.Outcome {
        do throws(ImageReferenceError) { return .image(try ImageReference(parsing: text)) } catch { return .invalid(text, error) }
    }

    /// The `.Values.a.b` paths written in a value (`$.Values` and `$root.Values` forms too).
    static func writtenReads(_ value: String) -> Set<String> {
        var reads = Set<String>()
        var rest = Substring(value)
        while let range = rest.firstRange(of: ".Values.") {
            var end = range.upperBound
            while end < rest.endIndex, rest[end].isLetter || rest[end].isNumber || rest[end] == "_" || rest[end] == "." || rest[end] == "-" {
                end = rest.index(after: end)
            }
            var path = String(rest[range.upperBound..<end])
            while path.hasSuffix(".") { path.removeLast() }
            if !path.isEmpty { reads.insert(path) }
            rest = rest[end...]
        }
        return reads
    }

    /// The string a YAML scalar written on one line holds: quotes removed (with `\"`, `\\` and
    /// `''` unescaped), a trailing ` # comment` dropped from a plain scalar.
    static func yamlScalar(_ written: String) -> String {
        let text = written.trimmingSpaces
        if text.hasPrefix("\""), let close = closingQuote(text, "\"") {
            var out = ""
            var escaped = false
            for c in text[text.index(after: text.startIndex)..<close] {
                if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
            }
            return out
        }
        if text.hasPrefix("'"), let close = closingQuote(text, "'") {
            return text[text.index(after: text.startIndex)..<close].replacingOccurrencesOfDoubledQuote()
        }
        if let comment = text.firstRange(of: " #") { return String(text[..<comment.lowerBound]).trimmingSpaces }
        return text
    }

    private static func closingQuote(_ text: String, _ quote: Character) -> String.Index? {
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let c = text[index]
            if quote == "\"", c == "\\" {
                index = text.index(after: index)
                if index < text.endIndex { index = text.index(after: index) }
                continue
            }
            if c == quote {
                let next = text.index(after: index)
                if quote == "'", next < text.endIndex, text[next] == "'" { index = text.index(after: next); continue }
                return index
            }
            index = text.index(after: index)
        }
        return nil
    }
}

extension Substring {
    /// `''` as `'` (YAML single-quoted scalars).
    func replacingOccurrencesOfDoubledQuote() -> String {
        split(separator: "''", omittingEmptySubsequences: false).joined(separator: "'")
    }
}
