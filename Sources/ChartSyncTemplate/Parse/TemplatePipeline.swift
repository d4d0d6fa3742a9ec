/// An expression of a template action: a pipeline of commands, as text/template parses them.
public indirect enum TemplateExpression: Sendable {
    /// `.a.b` (from dot), `$.a.b` / `$x.a.b` (from a variable; `$` is the root), `(pipeline).a.b`.
    case field(base: FieldBase, names: [String])
    /// A string literal.
    case string(String)
    /// A number literal, as written.
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `nil`.
    case null
    /// A function call `name arg...` (also a bare function name with no arguments).
    case call(String, [TemplateExpression])
    /// `a | f x | g`: each stage gets the previous result as its last argument.
    case pipe([TemplateExpression])

    /// Where a field chain starts.
    public enum FieldBase: Sendable {
        /// `.`.
        case dot
        /// A variable, with its `$`.
        case variable(String)
        /// A parenthesized pipeline.
        case expression(TemplateExpression)
    }
}

/// A parsed action: optional variable declaration or assignment, and the pipeline.
public struct TemplatePipeline: Sendable {
    /// The variables declared (`:=`) or assigned (`=`), with `$`.
    public let variables: [String]
    /// Whether the variables are declared rather than assigned.
    public let declares: Bool
    /// The expression.
    public let expression: TemplateExpression

    /// Why an action's text could not be parsed.
    public struct SyntaxError: Error, Sendable {
        /// What is wrong.
        public let message: String
    }

    /// Parses the text of an action (without delimiters).
    public init(parsing text: String) throws(SyntaxError) {
        var lexer = TemplateLexer(text)
        var tokens: [TemplateLexer.Token] = []
        while let token = try lexer.next() { tokens.append(token) }
        var variables: [String] = []
        var declares = false
        // $x := ..., $k, $v := ..., $x = ...
        var index = 0
        var names: [String] = []
        var probe = 0
        while probe < tokens.count, case .variable(let name, let fields) = tokens[probe], fields.isEmpty {
            names.append(name)
            probe += 1
            if probe < tokens.count, case .comma = tokens[probe] { probe += 1; continue }
            break
        }
        if !names.isEmpty, probe < tokens.count {
            if case .declare = tokens[probe] { variables = names; declares = true; index = probe + 1 }
            else if case .assign = tokens[probe] { variables = names; index = probe + 1 }
        }
        var parser = Parser(tokens: tokens, index: index)
        let expression = try parser.pipeline()
        guard parser.index == tokens.count else { throw SyntaxError(message: "unexpected \(parser.describe(tokens[parser.index]))") }
        self.variables = variables
        self.declares = declares
        self.expression = expression
    }

    /// A recursive-descent parser over the tokens of one action.
    struct Parser {
        let tokens: [TemplateLexer.Token]
        var index: Int

        func describe(_ token: TemplateLexer.Token) -> String { "\(token)" }

        mutating func pipeline() throws(SyntaxError) -> TemplateExpression {
            var stages: [TemplateExpression] = [try command()]
            while index < tokens.count, case .pipe = tokens[index] {
                index += 1
                stages.append(try command())
            }
            return stages.count == 1 ? stages[0] : .pipe(stages)
        }

        mutating func command() throws(SyntaxError) -> TemplateExpression {
            var operands: [TemplateExpression] = []
            var function: String?
            while index < tokens.count {
                switch tokens[index] {
                case .pipe, .rightParen: break
                case .identifier(let name) where operands.isEmpty && function == nil:
                    index += 1
                    switch name {
                    case "true": operands.append(.bool(true))
                    case "false": operands.append(.bool(false))
                    case "nil": operands.append(.null)
                    default: function = name
                    }
                    continue
                default:
                    operands.append(try operand())
                    continue
                }
                break
            }
            if let function { return .call(function, operands) }
            guard operands.count == 1 else {
                throw SyntaxError(message: operands.isEmpty ? "empty command" : "a value cannot take arguments")
            }
            return operands[0]
        }

        mutating func operand() throws(SyntaxError) -> TemplateExpression {
            let token = tokens[index]
            index += 1
            var base: TemplateExpression
            switch token {
            case .string(let text): base = .string(text)
            case .number(let text): base = .number(text)
            case .identifier(let name):
                switch name {
                case "true": base = .bool(true)
                case "false": base = .bool(false)
                case "nil": base = .null
                default: base = .call(name, [])
                }
            case .field(let names): base = .field(base: .dot, names: names)
            case .variable(let name, let names): base = .field(base: .variable(name), names: names)
            case .leftParen:
                let inner = try pipeline()
                guard index < tokens.count, case .rightParen = tokens[index] else { throw SyntaxError(message: "unclosed (") }
                index += 1
                base = inner
            default:
                throw SyntaxError(message: "unexpected \(describe(token))")
            }
            // (pipeline).field.chain
            if case .leftParen = token, index < tokens.count, case .field(let names) = tokens[index], !names.isEmpty {
                index += 1
                base = .field(base: .expression(base), names: names)
            }
            return base
        }
    }
}

/// The tokens of one action's text.
public struct TemplateLexer {
    /// A token.
    enum Token: CustomStringConvertible {
        case string(String), number(String), identifier(String)
        /// `.a.b` (empty for a lone `.`).
        case field([String])
        /// `$name.a.b` (`$` alone has the name "$").
        case variable(String, [String])
        case pipe, leftParen, rightParen, comma, declare, assign

        var description: String {
            switch self {
            case .string(let s): return "\"\(s)\""
            case .number(let s), .identifier(let s): return s
            case .field(let names): return "." + names.joined(separator: ".")
            case .variable(let name, let names): return ([name] + names).joined(separator: ".")
            case .pipe: return "|"
            case .leftParen: return "("
            case .rightParen: return ")"
            case .comma: return ","
            case .declare: return ":="
            case .assign: return "="
            }
        }
    }

    let bytes: [UInt8]
    /// The byte offset of the next token.
    private(set) var position = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    /// Whether `b` may be part of an identifier (ASCII letters, digits, `_`, and any non-ASCII byte).
    public static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
    }

    mutating func identifier() -> String {
        let start = position
        while position < bytes.count, TemplateLexer.isIdentifierByte(bytes[position]) { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// `.a.b.c` starting at a `.`; a lone `.` gives no names.
    mutating func fieldChain() -> [String] {
        var names: [String] = []
        while position < bytes.count, bytes[position] == 0x2E {
            let next = position + 1
            guard next < bytes.count, TemplateLexer.isIdentifierByte(bytes[next]), !(bytes[next] >= 0x30 && bytes[next] <= 0x39) else {
                if names.isEmpty { position += 1 }
                break
            }
            position += 1
            names.append(identifier())
        }
        return names
    }

    mutating func next() throws(TemplatePipeline.SyntaxError) -> Token? {
        while position < bytes.count, GoTemplate.isSpace(bytes[position]) { position += 1 }
        guard position < bytes.count else { return nil }
        let byte = bytes[position]
        switch byte {
        case 0x7C: position += 1; return .pipe
        case 0x28: position += 1; return .leftParen
        case 0x29:
            position += 1
            return .rightParen
        case 0x2C: position += 1; return .comma
        case 0x3A:
            guard position + 1 < bytes.count, bytes[position + 1] == 0x3D else { throw .init(message: "unexpected :") }
            position += 2
            return .declare
        case 0x3D: position += 1; return .assign
        case 0x22:  // "..."
            var out: [UInt8] = []
            position += 1
            while position < bytes.count, bytes[position] != 0x22 {
                if bytes[position] == 0x5C, position + 1 < bytes.count {
                    position += 1
                    switch bytes[position] {
                    case 0x6E: out.append(0x0A)
                    case 0x74: out.append(0x09)
                    case 0x72: out.append(0x0D)
                    case 0x22, 0x5C, 0x27: out.append(bytes[position])
                    default: throw .init(message: "unsupported escape in a string")
                    }
                } else {
                    out.append(bytes[position])
                }
                position += 1
            }
            guard position < bytes.count else { throw .init(message: "unterminated string") }
            position += 1
            return .string(String(decoding: out, as: UTF8.self))
        case 0x60:  // `raw`
            let start = position + 1
            position = start
            while position < bytes.count, bytes[position] != 0x60 { position += 1 }
            guard position < bytes.count else { throw .init(message: "unterminated raw string") }
            position += 1
            return .string(String(decoding: bytes[start..<(position - 1)], as: UTF8.self))
        case 0x27:
            throw .init(message: "character constants are not supported")
        case 0x2E:
            if position + 1 < bytes.count, bytes[position + 1] >= 0x30, bytes[position + 1] <= 0x39 { return .number(numberText()) }
            return .field(fieldChain())
        case 0x24:  // $
            position += 1
            let name = "$" + identifier()
            return .variable(name, fieldChain())
        default:
            if (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2B { return .number(numberText()) }
            if TemplateLexer.isIdentifierByte(byte) { return .identifier(identifier()) }
            throw .init(message: "unexpected character \(Character(Unicode.Scalar(byte)))")
        }
    }

    mutating func numberText() -> String {
        let start = position
        position += 1
        while position < bytes.count, TemplateLexer.isIdentifierByte(bytes[position]) || bytes[position] == 0x2E
                || ((bytes[position] == 0x2B || bytes[position] == 0x2D) && (bytes[position - 1] | 0x20) == 0x65) {
            position += 1
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }
}
