import ChartSyncCore
import ChartSyncIndex
@testable import ChartSyncTemplate

/// What a template gave with default values: text, the reason it needs more than default
/// values, or why it could not be parsed.
enum Rendered: Equatable, Sendable, CustomStringConvertible {
    case text(String)
    case unknown(String)
    case parseError(line: Int, message: String)

    var description: String {
        switch self {
        case .text(let text): return "text \(text.debugDescription)"
        case .unknown(let reason): return "unknown: \(reason)"
        case .parseError(let line, let message): return "line \(line): \(message)"
        }
    }
}

/// Builds values from YAML text, renders templates with them, and prints parsed expressions,
/// trees and values in a compact form the tables compare against.
enum TemplateHarness {
    /// The Chart.yaml every case sees.
    static let chart = ChartMetadata(name: "demo", version: "1.2.3", appVersion: "4.5.6")

    /// Values read from YAML text (an empty mapping for an empty text).
    static func values(_ yaml: String, file: String = "values.yaml") throws -> ValueNode {
        guard let node = try YAMLDocument.load(Array(yaml.utf8), source: file) else { return .emptyMap(file: file) }
        return ValueNode(node, file: file)
    }

    /// The context of a chart with `values` and the named templates of `templates`.
    static func context(values: ValueNode, templates: [GoTemplate]) -> TemplateContext {
        var defines: [String: DefinedTemplate] = [:]
        for template in templates {
            for (name, body) in GoTemplate.defines(in: template.nodes) { defines[name] = DefinedTemplate(file: "templates/x.yaml", body: body) }
        }
        return TemplateContext(values: values, metadata: chart, defines: defines)
    }

    /// Renders `template` from its top with `values` (YAML), `helpers` holding more named templates.
    static func render(_ template: String, values yaml: String = "", helpers: String = "") throws -> Rendered {
        try evaluate(template, values: yaml, helpers: helpers).rendered
    }

    /// Renders `template` and returns the outcome with the `.Values` paths the evaluator read.
    static func evaluate(_ template: String, values yaml: String = "", helpers: String = "") throws -> (rendered: Rendered, reads: [String]) {
        let parsed: GoTemplate, helper: GoTemplate
        do throws(GoTemplate.ParseError) {
            parsed = try GoTemplate(bytes: Array(template.utf8))
            helper = try GoTemplate(bytes: Array(helpers.utf8))
        } catch {
            return (.parseError(line: error.line, message: error.message), [])
        }
        var evaluator = TemplateEvaluator(context: context(values: try values(yaml), templates: [helper, parsed]))
        var scope = TemplateScope.top
        do throws(TemplateUnknown) {
            let text = try evaluator.render(parsed.nodes, scope: &scope)
            return (.text(text), evaluator.reads.sorted())
        } catch {
            return (.unknown(error.reason), evaluator.reads.sorted())
        }
    }

    // MARK: - Printing

    /// A pipeline as `$x := a | f b`, or `error: message`.
    static func describe(_ pipeline: Result<TemplatePipeline, TemplatePipeline.SyntaxError>) -> String {
        switch pipeline {
        case .failure(let error): return "error: " + error.message
        case .success(let pipeline):
            let head = pipeline.variables.isEmpty ? "" : pipeline.variables.joined(separator: ", ") + (pipeline.declares ? " := " : " = ")
            return head + describe(pipeline.expression)
        }
    }

    /// An expression in Go template syntax, every nested call and pipe in parentheses.
    static func describe(_ expression: TemplateExpression, nested: Bool = false) -> String {
        switch expression {
        case .field(let base, let names):
            let chain = names.map { "." + $0 }.joined()
            switch base {
            case .dot: return chain.isEmpty ? "." : chain
            case .variable(let name): return name + chain
            case .expression(let inner): return "(" + describe(inner) + ")" + chain
            }
        case .string(let text): return text.debugDescription
        case .number(let text): return text
        case .bool(let value): return value ? "true" : "false"
        case .null: return "nil"
        case .call(let name, let arguments):
            if arguments.isEmpty { return name }
            let text = ([name] + arguments.map { describe($0, nested: true) }).joined(separator: " ")
            return nested ? "(" + text + ")" : text
        case .pipe(let stages):
            let text = stages.map { describe($0) }.joined(separator: " | ")
            return nested ? "(" + text + ")" : text
        }
    }

    /// A tree as `"text" {{pipeline}} if cond {…} else {…}`, one space between nodes.
    static func describe(_ nodes: [GoTemplate.Node]) -> String {
        nodes.map { node -> String in
            switch node {
            case .text(let text, _, _): return text.debugDescription
            case .action(let action): return "{{" + describe(action.pipeline) + "}}"
            case .branch(let arms, let otherwise):
                var parts = arms.enumerated().map { index, arm in
                    (index == 0 ? "" : "else ") + arm.keyword + " " + describe(arm.action.pipeline) + " {" + describe(arm.body) + "}"
                }
                if let otherwise { parts.append("else {" + describe(otherwise) + "}") }
                return parts.joined(separator: " ")
            case .range(let arm, let otherwise):
                var text = "range " + describe(arm.action.pipeline) + " {" + describe(arm.body) + "}"
                if let otherwise { text += " else {" + describe(otherwise) + "}" }
                return text
            case .define(let name, let body): return "define \(name.debugDescription) {" + describe(body) + "}"
            case .block(let name, let argument, let body):
                return "block \(name.debugDescription) " + describe(argument.pipeline) + " {" + describe(body) + "}"
            }
        }.joined(separator: " ")
    }

    /// Values in flow style: `{a: 1, b: [x, "q"], c: null}` (quoted scalars keep their quotes).
    static func describe(_ node: ValueNode) -> String {
        switch node.content {
        case .null: return "null"
        case .scalar(let text, let plain): return plain ? text : text.debugDescription
        case .list(let items): return "[" + items.map(describe).joined(separator: ", ") + "]"
        case .map(let pairs): return "{" + pairs.map { $0.key + ": " + describe($0.value) }.joined(separator: ", ") + "}"
        }
    }
}
