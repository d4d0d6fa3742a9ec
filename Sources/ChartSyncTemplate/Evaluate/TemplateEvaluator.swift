import ChartSyncCore

/// Evaluates template expressions with a chart's default values: `.Values`, `.Chart`, literals,
/// variables, `include` of named templates, and the few functions image references are built
/// with (`default`, `printf`, `quote`, `trim`...). Anything else is ``TemplateUnknown``. Records the
/// `.Values` paths it reads.
public struct TemplateEvaluator {
    /// The chart whose templates are evaluated.
    let context: TemplateContext
    /// Dotted `.Values` paths read so far (`image.tag`).
    public private(set) var reads: Set<String> = []
    /// Unquoted numbers Helm renders otherwise than they are written (rendered as Helm does):
    /// path, as written, as Helm renders it.
    public private(set) var numbers: [(path: String, written: String, helm: String)] = []
    /// How deep `include` calls nest right now.
    private var includeDepth = 0
    /// How many `include` calls this evaluator may still make (named templates that include each
    /// other twice over would otherwise cost exponential time).
    private var includeBudget = 1000

    /// Creates an evaluator for one chart.
    public init(context: TemplateContext) { self.context = context }

    // MARK: - Rendering

    /// Renders `nodes` to text; throws when any part needs more than default values.
    public mutating func render(_ nodes: [GoTemplate.Node], scope: inout TemplateScope) throws(TemplateUnknown) -> String {
        var out = ""
        for node in nodes {
            switch node {
            case .text(let text, _, _):
                out += text
            case .action(let action):
                if let value = try run(action, scope: &scope) { out += try text(of: value) }
            case .branch(let arms, let otherwise):
                var taken = false
                for arm in arms {
                    var inner = scope.entering()
                    let value = try condition(arm.action, scope: &inner)
                    guard try truth(of: value) else { continue }
                    if arm.keyword == "with" { inner.dot = value }
                    out += try render(arm.body, scope: &inner)
                    scope.leave(inner)
                    taken = true
                    break
                }
                if !taken, let otherwise {
                    var inner = scope.entering()
                    out += try render(otherwise, scope: &inner)
                    scope.leave(inner)
                }
            case .range(let arm, let otherwise):
                var inner = scope.entering()
                let value = try condition(arm.action, scope: &inner)
                guard try !truth(of: value) else { throw TemplateUnknown("loops with range") }
                if let otherwise {
                    var elseScope = scope.entering()
                    out += try render(otherwise, scope: &elseScope)
                    scope.leave(elseScope)
                }
            case .define:
                break
            case .block(_, let argument, let body):
                var inner = scope
                guard let value = try run(argument, scope: &inner) else { throw TemplateUnknown("has a block without data") }
                var blockScope = TemplateScope(dot: value, variables: ["$": value])
                out += try render(body, scope: &blockScope)
            }
        }
        return out
    }

    /// Runs an output action: declarations and assignments update `scope` and give nil; anything
    /// else gives its value.
    public mutating func run(_ action: GoTemplate.Action, scope: inout TemplateScope) throws(TemplateUnknown) -> TemplateValue? {
        let pipeline = try parsed(action)
        if !pipeline.variables.isEmpty {
            let value: TemplateValue
            do { value = try evaluate(pipeline.expression, scope) } catch { value = .opaque(path: nil) }
            for name in pipeline.variables { scope.set(name, value, declaring: pipeline.declares) }
            return nil
        }
        return try evaluate(pipeline.expression, scope)
    }

    /// The value of a control action's pipeline (which may declare variables into `scope`).
    public mutating func condition(_ action: GoTemplate.Action, scope: inout TemplateScope) throws(TemplateUnknown) -> TemplateValue {
        let pipeline = try parsed(action)
        let value = try evaluate(pipeline.expression, scope)
        for name in pipeline.variables { scope.set(name, value, declaring: pipeline.declares) }
        return value
    }

    /// The pipeline the template parser made of `action`; one that could not be parsed is unknown.
    private func parsed(_ action: GoTemplate.Action) throws(TemplateUnknown) -> TemplatePipeline {
        switch action.pipeline {
        case .success(let pipeline): return pipeline
        case .failure(let error): throw TemplateUnknown("cannot be parsed: \(error.message)")
        }
    }

    // MARK: - Expressions

    /// Evaluates an expression; `piped` is the value of the previous pipeline stage, if any.
    public mutating func evaluate(_ expression: TemplateExpression, _ scope: TemplateScope, piped: TemplateValue? = nil) throws(TemplateUnknown) -> TemplateValue {
        switch expression {
        case .string(let text): return try applyPiped(.string(text), piped)
        case .number(let text): return try applyPiped(.number(text), piped)
        case .bool(let value): return try applyPiped(.bool(value), piped)
        case .null: return try applyPiped(.null, piped)
        case .field(let base, let names):
            var value: TemplateValue
            switch base {
            case .dot: value = scope.dot
            case .variable(let name):
                guard let known = scope.variables[name] else { throw TemplateUnknown("uses the undefined variable \(name)") }
                value = known
            case .expression(let inner): value = try evaluate(inner, scope)
            }
            for name in names { value = access(value, name) }
            note(value)
            return try applyPiped(value, piped)
        case .pipe(let stages):
            var value: TemplateValue?
            for stage in stages { value = try evaluate(stage, scope, piped: value) }
            return value ?? .null
        case .call(let name, let arguments):
            return try call(name, arguments, scope, piped: piped)
        }
    }

    /// A value cannot take a piped argument (only function calls can).
    private func applyPiped(_ value: TemplateValue, _ piped: TemplateValue?) throws(TemplateUnknown) -> TemplateValue {
        guard piped == nil else { throw TemplateUnknown("pipes into a value") }
        return value
    }

    /// Records the `.Values` path a value stands for.
    private mutating func note(_ value: TemplateValue) {
        switch value {
        case .node(_, let path), .missing(let path): reads.insert(path)
        case .opaque(let path?): reads.insert(path)
        default: break
        }
    }

    /// `value.name`.
    func access(_ value: TemplateValue, _ name: String) -> TemplateValue {
        func join(_ path: String) -> String { path.isEmpty ? name : path + "." + name }
        switch value {
        case .root:
            switch name {
            case "Values": return .node(context.values, path: "")
            case "Chart": return .chart
            case "Subcharts": return .subcharts(path: [])
            default: return .opaque(path: nil)
            }
        case .chart:
            return Self.field(name, of: context.metadata)
        case .subcharts(let path):
            // A subchart that is off is not in Helm's map: the key gives nothing.
            return context.context(at: path + [name]) == nil ? .null : .subchart(path: path + [name])
        case .subchart(let path):
            guard let scope = context.context(at: path) else { return .opaque(path: nil) }
            switch name {
            // Its values are the parent's section under its name: their paths are read as such.
            case "Values": return .node(scope.values, path: path.joined(separator: "."))
            case "Chart": return .subchartChart(path: path)
            case "Subcharts": return .subcharts(path: path)
            default: return .opaque(path: nil)
            }
        case .subchartChart(let path):
            guard let scope = context.context(at: path) else { return .opaque(path: nil) }
            return Self.field(name, of: scope.metadata)
        case .node(let node, let path):
            switch node.content {
            case .map:
                if let child = node[name] { return .node(child, path: join(path)) }
                return .missing(path: join(path))
            case .null: return .missing(path: join(path))
            default: return .opaque(path: join(path))
            }
        case .missing(let path): return .missing(path: join(path))
        case .opaque(let path): return .opaque(path: path.map(join))
        default: return .opaque(path: nil)
        }
    }

    /// A field of `.Chart`.
    static func field(_ name: String, of m: ChartMetadata) -> TemplateValue {
        switch name {
        case "Name": return .string(m.name)
        case "Version": return .string(m.version)
        case "AppVersion":
            if let appVersion = m.appVersion { return .string(appVersion) }
            return .null
        case "Type":
            if let type = m.type { return .string(type) }
            return .null
        case "APIVersion", "ApiVersion": return .string(m.apiVersion)
        default: return .opaque(path: nil)
        }
    }

    /// Calls a function; the arguments are evaluated first (so that their `.Values` reads are
    /// recorded even when the function is unknown), the piped value goes last.
    private mutating func call(_ name: String, _ arguments: [TemplateExpression], _ scope: TemplateScope, piped: TemplateValue?) throws(TemplateUnknown) -> TemplateValue {
        // and/or short-circuit as text/template does since Go 1.18.
        if name == "and" || name == "or" {
            var results: [Result<TemplateValue, TemplateUnknown>] = []
            for argument in arguments { results.append(Result { () throws(TemplateUnknown) in try evaluate(argument, scope) }) }
            if let piped { results.append(.success(piped)) }
            var unknown: TemplateUnknown?
            for result in results {
                switch result {
                case .success(let value):
                    do throws(TemplateUnknown) {
                        let isTrue = try truth(of: value)
                        if name == "and" && !isTrue { return value }
                        if name == "or" && isTrue { return value }
                    } catch { unknown = unknown ?? error }
                case .failure(let error): unknown = unknown ?? error
                }
            }
            if let unknown { throw unknown }
            return try results.last?.get() ?? .null
        }
        var values: [TemplateValue] = []
        var failure: TemplateUnknown?
        for argument in arguments {
            do throws(TemplateUnknown) { values.append(try evaluate(argument, scope)) } catch { failure = failure ?? error; values.append(.opaque(path: nil)) }
        }
        if let piped { values.append(piped) }
        if let failure { throw failure }
        func arity(_ count: Int) throws(TemplateUnknown) {
            guard values.count == count else { throw TemplateUnknown("calls \(name) with \(values.count) arguments") }
        }
        switch name {
        case "include", "template":
            try arity(2)
            guard case .string(let template) = values[0] else { throw TemplateUnknown("includes a template whose name is computed") }
            return .string(try include(template, values[1]))
        case "default":
            try arity(2)
            return try truth(of: values[1]) ? values[1] : values[0]
        case "required":
            try arity(2)
            guard try truth(of: values[1]) else { throw TemplateUnknown("requires a value that is not set") }
            return values[1]
        case "coalesce":
            for value in values {
                if try truth(of: value) { return value }
            }
            return .null
        case "ternary":
            try arity(3)
            return try truth(of: values[2]) ? values[0] : values[1]
        case "quote", "squote":
            let mark = name == "quote" ? "\"" : "'"
            var parts: [String] = []
            for value in values {
                if case .null = value { continue }
                if case .missing = value { continue }
                let text = try self.text(of: value)
                guard !text.contains(mark), !text.contains("\\") else { throw TemplateUnknown("quotes text with quotes in it") }
                parts.append(mark + text + mark)
            }
            return .string(parts.joined(separator: " "))
        case "toString":
            try arity(1)
            return .string(try text(of: values[0]))
        case "trim", "lower", "upper":
            try arity(1)
            let text = try self.text(of: values[0])
            switch name {
            case "trim": return .string(text.trimmingSpaces)
            case "lower": return .string(text.lowercased())
            default: return .string(text.uppercased())
            }
        case "trimSuffix", "trimPrefix":
            try arity(2)
            let affix = try text(of: values[0]), text = try self.text(of: values[1])
            if name == "trimSuffix" { return .string(text.hasSuffix(affix) && !affix.isEmpty ? String(text.dropLast(affix.count)) : text) }
            return .string(text.hasPrefix(affix) && !affix.isEmpty ? String(text.dropFirst(affix.count)) : text)
        case "replace":
            try arity(3)
            let old = try text(of: values[0]), new = try text(of: values[1]), text = try self.text(of: values[2])
            guard !old.isEmpty else { return .string(text) }
            return .string(text.split(separator: old, omittingEmptySubsequences: false).joined(separator: new))
        case "printf":
            guard let first = values.first else { throw TemplateUnknown("calls printf without a format") }
            return .string(try printf(try text(of: first), Array(values.dropFirst())))
        case "print":
            var out = ""
            for value in values {
                guard case .string(let text) = value else { throw TemplateUnknown("prints a value that is not a string") }
                out += text
            }
            return .string(out)
        case "not":
            try arity(1)
            return .bool(!(try truth(of: values[0])))
        case "empty":
            try arity(1)
            return .bool(!(try truth(of: values[0])))
        case "eq", "ne":
            guard values.count >= 2 else { throw TemplateUnknown("calls \(name) with too few arguments") }
            var equal = false
            for other in values.dropFirst() {
                if try same(values[0], other) { equal = true }
            }
            return .bool(name == "eq" ? equal : !equal)
        case "hasKey":
            try arity(2)
            guard case .node(let node, _) = values[0], node.pairs != nil else { throw TemplateUnknown("calls hasKey on something that is not a map of values") }
            return .bool(node[try text(of: values[1])] != nil)
        default:
            throw TemplateUnknown("calls \(name)")
        }
    }

    /// Renders the named template with `argument` as its data.
    private mutating func include(_ name: String, _ argument: TemplateValue) throws(TemplateUnknown) -> String {
        guard let defined = context.defines[name] else { throw TemplateUnknown("includes \"\(name)\", which no template defines") }
        guard includeDepth < 16 else { throw TemplateUnknown("includes templates more than 16 levels deep") }
        guard includeBudget > 0 else { throw TemplateUnknown("includes more than 1000 templates") }
        includeBudget -= 1
        if case .opaque = argument { throw TemplateUnknown("includes \"\(name)\" with data other than the chart's context") }
        includeDepth += 1
        defer { includeDepth -= 1 }
        var scope = TemplateScope(dot: argument, variables: ["$": argument])
        do throws(TemplateUnknown) {
            return try render(defined.body, scope: &scope)
        } catch {
            throw TemplateUnknown("includes \"\(name)\", which \(error.reason)")
        }
    }

    /// Go's fmt for `%s`, `%v`, `%d` and `%%`.
    private mutating func printf(_ format: String, _ arguments: [TemplateValue]) throws(TemplateUnknown) -> String {
        var out = ""
        var index = 0
        var chars = format.makeIterator()
        while let c = chars.next() {
            guard c == "%" else { out.append(c); continue }
            guard let verb = chars.next() else { throw TemplateUnknown("has a printf format ending in %") }
            switch verb {
            case "%": out.append("%")
            case "s", "v", "d":
                guard index < arguments.count else { throw TemplateUnknown("has a printf with too few arguments") }
                out += try text(of: arguments[index])
                index += 1
            default: throw TemplateUnknown("uses the printf verb %\(verb)")
            }
        }
        return out
    }

    // MARK: - Conversions

    /// The text a value renders as ("" for nothing, as Helm renders a missing value).
    mutating func text(of value: TemplateValue) throws(TemplateUnknown) -> String {
        switch value {
        case .string(let text), .number(let text): return text
        case .bool(let value): return value ? "true" : "false"
        case .null, .missing: return ""
        case .node(let node, let path):
            switch node.content {
            case .null: return ""
            case .scalar(let text, _):
                if let helm = node.helmRenderingIfDifferent {
                    numbers.append((path, text, helm))
                    return helm   // what Helm renders: the number as a float
                }
                return text
            default: throw TemplateUnknown("renders the map or list .Values.\(path)")
            }
        case .root, .chart, .subcharts, .subchart, .subchartChart: throw TemplateUnknown("renders a context object")
        case .opaque(let path):
            if let path { throw TemplateUnknown("reads .Values.\(path) in a way chartsync does not follow") }
            throw TemplateUnknown("renders something known only at install time")
        }
    }

    /// Whether text/template takes the value as true.
    public func truth(of value: TemplateValue) throws(TemplateUnknown) -> Bool {
        switch value {
        case .string(let text): return !text.isEmpty
        case .number(let text): return !(ValueNode.numberIsZero(text) ?? false)
        case .bool(let value): return value
        case .null, .missing: return false
        case .node(let node, _): return node.isTruthy
        case .root, .chart, .subchart, .subchartChart: return true
        case .subcharts(let path): return !(context.context(at: path)?.subcharts.isEmpty ?? true)
        case .opaque: throw TemplateUnknown("tests something known only at install time")
        }
    }

    /// A comparable form of a scalar value.
    private enum Basic: Equatable { case string(String), bool(Bool), number(Double) }

    private func basic(_ value: TemplateValue) throws(TemplateUnknown) -> Basic {
        switch value {
        case .string(let text): return .string(text)
        case .bool(let value): return .bool(value)
        case .number(let text): if let d = Double(text) { return .number(d) }
        case .node(let node, _):
            switch node.scalarType {
            case .string?: return .string(node.text ?? "")
            case .bool(let value)?: return .bool(value)
            case .number?: if let text = node.text, let d = Double(text.filter { $0 != "_" }) { return .number(d) }
            case nil: break
            }
        default: break
        }
        throw TemplateUnknown("compares values of types chartsync does not compare")
    }

    /// `eq` for two scalars of the same kind (text/template refuses to compare different kinds).
    private func same(_ a: TemplateValue, _ b: TemplateValue) throws(TemplateUnknown) -> Bool {
        let x = try basic(a), y = try basic(b)
        switch (x, y) {
        case (.string, .string), (.bool, .bool), (.number, .number): return x == y
        default: throw TemplateUnknown("compares values of different types")
        }
    }
}
