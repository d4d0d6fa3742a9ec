/// The structure of a Helm template file as far as image discovery reads it: text, actions
/// (`{{ ... }}`, with `{{-`/`-}}` trimming applied to the text beside them) and the control
/// structures of Go's text/template (`if`, `with`, `range`, `define`, `block`) with their bodies.
/// Every action's pipeline is parsed here, once. Comments are dropped. Offsets are UTF-8 byte
/// offsets into the file.
public struct GoTemplate: Sendable {
    /// A node of the parsed tree.
    public indirect enum Node: Sendable {
        /// Text to output, trimmed as the actions beside it ask; `rawStart..<rawEnd` is where it
        /// lies in the file before trimming.
        case text(String, rawStart: Int, rawEnd: Int)
        /// An action that outputs (or assigns): `{{ .Values.x }}`, `{{ include "a" . }}`, `{{ $x := 1 }}`.
        case action(Action)
        /// `if`/`with` with `else if`/`else with` arms and an optional `else`.
        case branch(arms: [Arm], otherwise: [Node]?)
        /// `range` with its body and optional `else`.
        case range(Arm, otherwise: [Node]?)
        /// `define "name"`: not output in place.
        case define(name: String, body: [Node])
        /// `block "name" pipeline`: defines `name` and outputs it in place.
        case block(name: String, argument: Action, body: [Node])
    }

    /// One arm of a control structure: the keyword (`if`, `with`, `range`), its action and body.
    public struct Arm: Sendable {
        /// `if`, `with` or `range`.
        public let keyword: String
        /// The action holding the condition (its text and pipeline are what follows the keyword).
        public let action: Action
        /// The nodes inside.
        public let body: [Node]
    }

    /// One `{{ ... }}` with its text between the delimiters (without trim markers and spaces) and
    /// its parsed pipeline.
    public struct Action: Sendable {
        /// The text inside (for control actions: what follows the keyword).
        public let text: String
        /// The 1-based line the action starts on.
        let line: Int
        /// Byte offset of `{{` and just past `}}`.
        let start: Int, end: Int
        /// The pipeline of `text`, or why it cannot be parsed (which only makes this action
        /// unknown when it is evaluated, not the template unparseable).
        public let pipeline: Result<TemplatePipeline, TemplatePipeline.SyntaxError>
    }

    /// The top-level nodes.
    public let nodes: [Node]

    /// Why a template could not be parsed (an unclosed action or an unbalanced `end`).
    public struct ParseError: Error, Sendable {
        /// The 1-based line.
        public let line: Int
        /// What is wrong.
        public let message: String
    }

    /// Parses `bytes` (a template file or a piece of one) whose first line is `firstLine`.
    public init(bytes: [UInt8], firstLine: Int = 1) throws(ParseError) {
        var lexer = TemplateLexer(bytes: bytes, firstLine: firstLine)
        var parser = Parser(items: try lexer.items())
        let (nodes, terminator) = try parser.nodes()
        if let terminator { throw ParseError(line: terminator.line, message: "{{ \(terminator.word) }} without an opening if, with, range, define or block") }
        self.nodes = nodes
    }

    /// Every `define`d (and `block`) template of the nodes, by name.
    public static func defines(in nodes: [Node]) -> [(String, [Node])] {
        var found: [(String, [Node])] = []
        for node in nodes {
            switch node {
            case .define(let name, let body): found.append((name, body))
            case .block(let name, _, let body): found.append((name, body)); found += defines(in: body)
            case .branch(let arms, let otherwise):
                for arm in arms { found += defines(in: arm.body) }
                if let otherwise { found += defines(in: otherwise) }
            case .range(let arm, let otherwise):
                found += defines(in: arm.body)
                if let otherwise { found += defines(in: otherwise) }
            default: break
            }
        }
        return found
    }
}

extension GoTemplate.Action {
    /// The action `item` with the pipeline of `lexemes` (what follows the keyword unless told otherwise).
    init(_ item: TemplateLexer.Action, text: String? = nil, lexemes: ArraySlice<TemplateLexer.Lexeme>? = nil) {
        self.init(text: text ?? item.text, line: item.line, start: item.start, end: item.end,
                  pipeline: TemplatePipeline.parse(lexemes ?? item.lexemes[...], lexingError: item.error))
    }
}

extension GoTemplate {
    /// The `end`/`else` that stopped a body, with its action.
    struct Terminator {
        let word: String
        let action: TemplateLexer.Action
        var line: Int { action.line }
    }

    /// Builds the tree of a template's text and actions.
    struct Parser {
        let items: [TemplateLexer.Item]
        var index = 0

        init(items: [TemplateLexer.Item]) { self.items = items }

        /// Parses nodes until an `end` or `else` (returned) or the end of the items (nil).
        mutating func nodes() throws(ParseError) -> ([Node], Terminator?) {
            var nodes: [Node] = []
            while index < items.count {
                let item = items[index]
                index += 1
                switch item {
                case .text(let text, let rawStart, let rawEnd):
                    nodes.append(.text(text, rawStart: rawStart, rawEnd: rawEnd))
                case .action(let action):
                    if let terminator = try control(action, into: &nodes) { return (nodes, terminator) }
                }
            }
            return (nodes, nil)
        }

        /// Appends the node `action` starts (reading its body when it opens one), or returns the
        /// `end`/`else` it is.
        private mutating func control(_ action: TemplateLexer.Action, into nodes: inout [Node]) throws(ParseError) -> Terminator? {
            let word = action.keyword
            switch word {
            case "":
                nodes.append(.action(Action(action)))
            case "end", "else":
                return Terminator(word: word, action: action)
            case "if", "with":
                var arms: [Arm] = []
                var keyword = word
                var current = Action(action)
                var otherwise: [Node]?
                while true {
                    let (body, terminator) = try self.nodes()
                    arms.append(Arm(keyword: keyword, action: current, body: body))
                    guard let terminator else { throw ParseError(line: action.line, message: "{{ \(word) }} without {{ end }}") }
                    if terminator.word == "end" { break }
                    // else, else if ..., else with ...
                    let elseText = terminator.action.text
                    if elseText.hasPrefix("if ") || elseText.hasPrefix("with ") {
                        keyword = elseText.hasPrefix("if ") ? "if" : "with"
                        let condition = String(elseText.dropFirst(keyword.count + 1).drop(while: { $0 == " " }))
                        // The first token is the keyword itself.
                        current = Action(terminator.action, text: condition, lexemes: terminator.action.lexemes.dropFirst())
                        continue
                    }
                    let (elseBody, last) = try self.nodes()
                    guard let last, last.word == "end" else { throw ParseError(line: terminator.line, message: "{{ else }} without {{ end }}") }
                    otherwise = elseBody
                    break
                }
                nodes.append(.branch(arms: arms, otherwise: otherwise))
            case "range":
                let (body, terminator) = try self.nodes()
                guard let terminator else { throw ParseError(line: action.line, message: "{{ range }} without {{ end }}") }
                var otherwise: [Node]?
                if terminator.word == "else" {
                    let (elseBody, last) = try self.nodes()
                    guard let last, last.word == "end" else { throw ParseError(line: terminator.line, message: "{{ else }} without {{ end }}") }
                    otherwise = elseBody
                }
                nodes.append(.range(Arm(keyword: "range", action: Action(action), body: body), otherwise: otherwise))
            case "define", "block":
                let (body, terminator) = try self.nodes()
                guard let terminator, terminator.word == "end" else {
                    throw ParseError(line: action.line, message: "{{ \(word) }} without {{ end }}")
                }
                guard let first = action.lexemes.first, case .string(let name) = first.token else {
                    throw ParseError(line: action.line, message: "{{ \(word) }} without a quoted name")
                }
                if word == "define" {
                    nodes.append(.define(name: name, body: body))
                } else {
                    let rest = String(decoding: action.textBytes[first.end...], as: UTF8.self).trimmingSpaces
                    nodes.append(.block(name: name, argument: Action(action, text: rest, lexemes: action.lexemes.dropFirst()), body: body))
                }
            default:  // break, continue: kept as actions the evaluator does not know
                let call = TemplatePipeline(variables: [], declares: false, expression: .call(word, []))
                nodes.append(.action(Action(text: word, line: action.line, start: action.start, end: action.end, pipeline: .success(call))))
            }
            return nil
        }
    }
}
