/// The structure of a Helm template file as far as image discovery reads it: text, actions
/// (`{{ ... }}`, with `{{-`/`-}}` trimming applied to the text beside them) and the control
/// structures of Go's text/template (`if`, `with`, `range`, `define`, `block`) with their bodies.
/// Comments are dropped. Offsets are UTF-8 byte offsets into the file.
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
        /// The action holding the condition (its text is the pipeline after the keyword).
        public let action: Action
        /// The nodes inside.
        public let body: [Node]
    }

    /// One `{{ ... }}` with its text between the delimiters, without trim markers and spaces.
    public struct Action: Sendable {
        /// The text inside (for control actions: what follows the keyword).
        public let text: String
        /// The 1-based line the action starts on.
        public let line: Int
        /// Byte offset of `{{` and just past `}}`.
        public let start: Int, end: Int
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
        let tokens = try GoTemplate.lex(bytes, firstLine: firstLine)
        var index = 0
        let (nodes, terminator) = try GoTemplate.parseNodes(tokens, &index)
        if let terminator { throw ParseError(line: terminator.line, message: "{{ \(terminator.word) }} without an opening if, with, range, define or block") }
        self.nodes = nodes
    }

    // MARK: - Lexing

    /// A lexical piece: text or an action, with the trim markers it has.
    enum Token {
        case text(String, rawStart: Int, rawEnd: Int)
        case action(word: String, Action)
    }

    static let controlWords: Set<String> = ["if", "else", "end", "with", "range", "define", "block", "break", "continue"]

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    static func lex(_ bytes: [UInt8], firstLine: Int) throws(ParseError) -> [Token] {
        var tokens: [Token] = []
        var position = 0
        var line = firstLine
        var trimNextText = false
        let count = bytes.count
        func lineAt(_ from: Int, _ to: Int) -> Int {
            var n = 0
            var i = from
            while i < to { if bytes[i] == 0x0A { n += 1 }; i += 1 }
            return n
        }
        while position < count {
            // Find the next "{{".
            var open = position
            while open + 1 < count, !(bytes[open] == 0x7B && bytes[open + 1] == 0x7B) { open += 1 }
            if open + 1 >= count { open = count }
            var textEnd = open
            var leftTrim = false
            if open < count, open + 3 < count, bytes[open + 2] == 0x2D, isSpace(bytes[open + 3]) { leftTrim = true }
            var textStart = position
            if trimNextText { while textStart < textEnd, isSpace(bytes[textStart]) { textStart += 1 } }
            if leftTrim { while textEnd > textStart, isSpace(bytes[textEnd - 1]) { textEnd -= 1 } }
            if textStart < textEnd {
                tokens.append(.text(String(decoding: bytes[textStart..<textEnd], as: UTF8.self), rawStart: position, rawEnd: open))
            } else if position < open {
                tokens.append(.text("", rawStart: position, rawEnd: open))
            }
            line += lineAt(position, open)
            if open >= count { break }
            let actionLine = line
            var inner = open + 2 + (leftTrim ? 2 : 0)
            while inner < count, isSpace(bytes[inner]) { inner += 1 }
            // A comment: {{/* ... */}} or {{- /* ... */ -}}.
            if inner + 1 < count, bytes[inner] == 0x2F, bytes[inner + 1] == 0x2A {
                var close = inner + 2
                while close + 1 < count, !(bytes[close] == 0x2A && bytes[close + 1] == 0x2F) { close += 1 }
                guard close + 1 < count else { throw ParseError(line: actionLine, message: "unclosed comment") }
                var after = close + 2
                var rightTrim = false
                while after < count, isSpace(bytes[after]) { after += 1 }
                if after < count, bytes[after] == 0x2D { rightTrim = true; after += 1 }
                guard after + 1 < count, bytes[after] == 0x7D, bytes[after + 1] == 0x7D else {
                    throw ParseError(line: actionLine, message: "comment not followed by }}")
                }
                line += lineAt(open, after + 2)
                position = after + 2
                trimNextText = rightTrim
                continue
            }
            // Find "}}" outside string literals.
            var scan = inner
            var close = -1
            while scan + 1 < count {
                let byte = bytes[scan]
                if byte == 0x22 || byte == 0x60 || byte == 0x27 {  // " ` '
                    var end = scan + 1
                    while end < count, bytes[end] != byte {
                        if byte != 0x60, bytes[end] == 0x5C { end += 1 }
                        if byte != 0x60, end < count, bytes[end] == 0x0A { break }
                        end += 1
                    }
                    scan = end + 1
                    continue
                }
                if byte == 0x7D, bytes[scan + 1] == 0x7D { close = scan; break }
                scan += 1
            }
            guard close >= 0 else { throw ParseError(line: actionLine, message: "unclosed action") }
            var bodyEnd = close
            var rightTrim = false
            if bodyEnd - 2 >= inner - 1, bytes[bodyEnd - 1] == 0x2D, isSpace(bytes[bodyEnd - 2]) { rightTrim = true; bodyEnd -= 1 }
            while bodyEnd > inner, isSpace(bytes[bodyEnd - 1]) { bodyEnd -= 1 }
            let text = inner < bodyEnd ? String(decoding: bytes[inner..<bodyEnd], as: UTF8.self) : ""
            // The keyword is the leading run of letters (`with.Values.x` is `with` and `.Values.x`).
            var word = ""
            var rest = Substring(text)
            let letters = text.prefix(while: { $0.isASCII && $0.isLetter })
            let after = text.dropFirst(letters.count).first
            if controlWords.contains(String(letters)), after.map({ !($0.isLetter || $0.isNumber || $0 == "_") }) ?? true {
                word = String(letters)
                rest = text.dropFirst(letters.count).drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            }
            line += lineAt(open, close + 2)
            tokens.append(.action(word: word, Action(text: String(rest), line: actionLine, start: open, end: close + 2)))
            position = close + 2
            trimNextText = rightTrim
        }
        return tokens
    }

    // MARK: - Tree

    /// The `end`/`else` that stopped a body, with its line.
    struct Terminator {
        let word: String
        let action: Action
        var line: Int { action.line }
    }

    /// Parses nodes until an `end` or `else` (returned) or the end of the tokens (nil).
    static func parseNodes(_ tokens: [Token], _ index: inout Int) throws(ParseError) -> ([Node], Terminator?) {
        var nodes: [Node] = []
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            switch token {
            case .text(let text, let rawStart, let rawEnd):
                nodes.append(.text(text, rawStart: rawStart, rawEnd: rawEnd))
            case .action(let word, let action):
                switch word {
                case "":
                    nodes.append(.action(action))
                case "end", "else":
                    return (nodes, Terminator(word: word, action: action))
                case "if", "with":
                    var arms: [Arm] = []
                    var keyword = word
                    var current = action
                    var otherwise: [Node]?
                    while true {
                        let (body, terminator) = try parseNodes(tokens, &index)
                        arms.append(Arm(keyword: keyword, action: current, body: body))
                        guard let terminator else { throw ParseError(line: action.line, message: "{{ \(word) }} without {{ end }}") }
                        if terminator.word == "end" { break }
                        // else, else if ..., else with ...
                        let elseText = terminator.action.text
                        if elseText.hasPrefix("if ") || elseText.hasPrefix("with ") {
                            keyword = elseText.hasPrefix("if ") ? "if" : "with"
                            let condition = String(elseText.dropFirst(keyword.count + 1).drop(while: { $0 == " " }))
                            current = Action(text: condition, line: terminator.action.line, start: terminator.action.start, end: terminator.action.end)
                            continue
                        }
                        let (elseBody, last) = try parseNodes(tokens, &index)
                        guard let last, last.word == "end" else { throw ParseError(line: terminator.line, message: "{{ else }} without {{ end }}") }
                        otherwise = elseBody
                        break
                    }
                    nodes.append(.branch(arms: arms, otherwise: otherwise))
                case "range":
                    let (body, terminator) = try parseNodes(tokens, &index)
                    guard let terminator else { throw ParseError(line: action.line, message: "{{ range }} without {{ end }}") }
                    var otherwise: [Node]?
                    if terminator.word == "else" {
                        let (elseBody, last) = try parseNodes(tokens, &index)
                        guard let last, last.word == "end" else { throw ParseError(line: terminator.line, message: "{{ else }} without {{ end }}") }
                        otherwise = elseBody
                    }
                    nodes.append(.range(Arm(keyword: "range", action: action, body: body), otherwise: otherwise))
                case "define", "block":
                    let (body, terminator) = try parseNodes(tokens, &index)
                    guard let terminator, terminator.word == "end" else {
                        throw ParseError(line: action.line, message: "{{ \(word) }} without {{ end }}")
                    }
                    guard let named = leadingString(action.text) else {
                        throw ParseError(line: action.line, message: "{{ \(word) }} without a quoted name")
                    }
                    let (name, rest) = named
                    if word == "define" {
                        nodes.append(.define(name: name, body: body))
                    } else {
                        let argument = Action(text: rest, line: action.line, start: action.start, end: action.end)
                        nodes.append(.block(name: name, argument: argument, body: body))
                    }
                default:  // break, continue: kept as actions the evaluator does not know
                    nodes.append(.action(Action(text: word, line: action.line, start: action.start, end: action.end)))
                }
            }
        }
        return (nodes, nil)
    }

    /// A leading Go string literal of `text` and the rest after it.
    static func leadingString(_ text: String) -> (String, String)? {
        var lexer = TemplateLexer(text)
        guard case .string(let name)? = try? lexer.next() else { return nil }
        return (name, String(decoding: Array(text.utf8).dropFirst(lexer.position), as: UTF8.self).trimmingSpaces)
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

extension String {
    /// The text without leading and trailing spaces, tabs and line breaks.
    public var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
