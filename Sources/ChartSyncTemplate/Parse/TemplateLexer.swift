/// The one lexer of Go templates. It splits a template into text and `{{ ... }}` actions (the
/// trim markers `{{-`/`-}}` applied to the text beside them, comments dropped), and each action
/// into its control keyword and the tokens of its pipeline. Offsets are UTF-8 byte offsets into
/// the template.
public struct TemplateLexer {
    /// A token inside an action.
    enum Token: Sendable, CustomStringConvertible {
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

    /// A token and the offset just past it.
    struct Lexeme: Sendable {
        let token: Token
        let end: Int
    }

    /// A piece of a template.
    enum Item {
        /// Text, trimmed as the actions beside it ask; `rawStart..<rawEnd` is where it lies before trimming.
        case text(String, rawStart: Int, rawEnd: Int)
        /// An action.
        case action(Action)
    }

    /// One `{{ ... }}`: its keyword, the text after the keyword, where it is, and its tokens.
    struct Action {
        /// The control keyword (`if`, `else`, `end`, `range`...), or "" when the action has none.
        let keyword: String
        /// The text inside the delimiters after the keyword, without trim markers and spaces.
        let text: String
        /// The 1-based line the action starts on.
        let line: Int
        /// Byte offset of `{{` and just past `}}`.
        let start: Int, end: Int
        /// The bytes of `text` (indices are offsets into the template).
        let textBytes: ArraySlice<UInt8>
        /// The tokens of `text`, up to the first that cannot be read.
        let lexemes: [Lexeme]
        /// Why the tokens stop before the end of `text`, if they do.
        let error: TemplatePipeline.SyntaxError?
    }

    /// The words that open, continue or close a control structure.
    static let controlWords: Set<String> = ["if", "else", "end", "with", "range", "define", "block", "break", "continue"]

    private let bytes: [UInt8]
    /// The offset of the next byte to read.
    private var position = 0
    /// Where the bytes being read end: the end of the template, or of the text of an action.
    private var limit: Int
    /// The line `position` is on.
    private var line: Int
    /// Whether the previous action ended with `-}}`.
    private var trimNextText = false

    /// A lexer for `bytes`, whose first line is `firstLine`.
    init(bytes: [UInt8], firstLine: Int) {
        self.bytes = bytes
        self.limit = bytes.count
        self.line = firstLine
    }

    /// Whether `byte` is a space, tab or line break.
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    /// Whether `b` may be part of an identifier (ASCII letters, digits, `_`, and any non-ASCII byte).
    public static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
    }

    // MARK: - Text and actions

    /// Every piece of the template, in order.
    mutating func items() throws(GoTemplate.ParseError) -> [Item] {
        var items: [Item] = []
        let count = bytes.count
        while position < count {
            // Find the next "{{".
            var open = position
            while open + 1 < count, !(bytes[open] == 0x7B && bytes[open + 1] == 0x7B) { open += 1 }
            if open + 1 >= count { open = count }
            var textEnd = open
            var leftTrim = false
            if open < count, open + 3 < count, bytes[open + 2] == 0x2D, Self.isSpace(bytes[open + 3]) { leftTrim = true }
            var textStart = position
            if trimNextText { while textStart < textEnd, Self.isSpace(bytes[textStart]) { textStart += 1 } }
            if leftTrim { while textEnd > textStart, Self.isSpace(bytes[textEnd - 1]) { textEnd -= 1 } }
            if textStart < textEnd {
                items.append(.text(String(decoding: bytes[textStart..<textEnd], as: UTF8.self), rawStart: position, rawEnd: open))
            } else if position < open {
                items.append(.text("", rawStart: position, rawEnd: open))
            }
            line += lineBreaks(position, open)
            if open >= count { break }
            let actionLine = line
            var inner = open + 2 + (leftTrim ? 2 : 0)
            while inner < count, Self.isSpace(bytes[inner]) { inner += 1 }
            // A comment: {{/* ... */}} or {{- /* ... */ -}}.
            if inner + 1 < count, bytes[inner] == 0x2F, bytes[inner + 1] == 0x2A {
                var close = inner + 2
                while close + 1 < count, !(bytes[close] == 0x2A && bytes[close + 1] == 0x2F) { close += 1 }
                guard close + 1 < count else { throw GoTemplate.ParseError(line: actionLine, message: "unclosed comment") }
                var after = close + 2
                var rightTrim = false
                while after < count, Self.isSpace(bytes[after]) { after += 1 }
                if after < count, bytes[after] == 0x2D { rightTrim = true; after += 1 }
                guard after + 1 < count, bytes[after] == 0x7D, bytes[after + 1] == 0x7D else {
                    throw GoTemplate.ParseError(line: actionLine, message: "comment not followed by }}")
                }
                line += lineBreaks(open, after + 2)
                position = after + 2
                trimNextText = rightTrim
                continue
            }
            guard let close = closingDelimiter(from: inner) else {
                throw GoTemplate.ParseError(line: actionLine, message: "unclosed action")
            }
            var bodyEnd = close
            var rightTrim = false
            if bodyEnd - 2 >= inner - 1, bytes[bodyEnd - 1] == 0x2D, Self.isSpace(bytes[bodyEnd - 2]) { rightTrim = true; bodyEnd -= 1 }
            while bodyEnd > inner, Self.isSpace(bytes[bodyEnd - 1]) { bodyEnd -= 1 }
            let body = inner < bodyEnd ? String(decoding: bytes[inner..<bodyEnd], as: UTF8.self) : ""
            // The keyword is the leading run of letters (`with.Values.x` is `with` and `.Values.x`).
            var keyword = ""
            var text = Substring(body)
            let letters = body.prefix(while: { $0.isASCII && $0.isLetter })
            let after = body.dropFirst(letters.count).first
            if Self.controlWords.contains(String(letters)), after.map({ !($0.isLetter || $0.isNumber || $0 == "_") }) ?? true {
                keyword = String(letters)
                text = body.dropFirst(letters.count).drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            }
            // What was dropped before `text` is ASCII (letters and spaces): as many bytes as in the template.
            let tokensStart = inner + (body.utf8.count - text.utf8.count)
            let (lexemes, error) = tokens(from: tokensStart, to: bodyEnd)
            line += lineBreaks(open, close + 2)
            items.append(.action(Action(keyword: keyword, text: String(text), line: actionLine, start: open, end: close + 2,
                                        textBytes: bytes[tokensStart..<max(tokensStart, bodyEnd)], lexemes: lexemes, error: error)))
            position = close + 2
            trimNextText = rightTrim
        }
        return items
    }

    /// How many line breaks `from..<to` holds.
    private func lineBreaks(_ from: Int, _ to: Int) -> Int {
        var n = 0
        var i = from
        while i < to { if bytes[i] == 0x0A { n += 1 }; i += 1 }
        return n
    }

    /// The offset of the `}}` that closes the action whose text starts at `from`, outside quoted
    /// text (`"..."`, `'...'` and `` `...` ``; an unclosed `"` or `'` ends at its line's end).
    private func closingDelimiter(from: Int) -> Int? {
        let count = bytes.count
        var scan = from
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
            if byte == 0x7D, bytes[scan + 1] == 0x7D { return scan }
            scan += 1
        }
        return nil
    }

    // MARK: - Tokens inside an action

    /// The tokens of `from..<to`, up to the first that cannot be read, and why that one cannot.
    private mutating func tokens(from: Int, to: Int) -> ([Lexeme], TemplatePipeline.SyntaxError?) {
        let (savedPosition, savedLimit) = (position, limit)
        defer { (position, limit) = (savedPosition, savedLimit) }
        position = from
        limit = to
        var lexemes: [Lexeme] = []
        do throws(TemplatePipeline.SyntaxError) {
            while let token = try nextToken() { lexemes.append(Lexeme(token: token, end: position)) }
        } catch {
            return (lexemes, error)
        }
        return (lexemes, nil)
    }

    private mutating func identifier() -> String {
        let start = position
        while position < limit, Self.isIdentifierByte(bytes[position]) { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// `.a.b.c` starting at a `.`; a lone `.` gives no names.
    private mutating func fieldChain() -> [String] {
        var names: [String] = []
        while position < limit, bytes[position] == 0x2E {
            let next = position + 1
            guard next < limit, Self.isIdentifierByte(bytes[next]), !(bytes[next] >= 0x30 && bytes[next] <= 0x39) else {
                if names.isEmpty { position += 1 }
                break
            }
            position += 1
            names.append(identifier())
        }
        return names
    }

    /// The next token before `limit`, or nil at `limit`.
    private mutating func nextToken() throws(TemplatePipeline.SyntaxError) -> Token? {
        while position < limit, Self.isSpace(bytes[position]) { position += 1 }
        guard position < limit else { return nil }
        let byte = bytes[position]
        switch byte {
        case 0x7C: position += 1; return .pipe
        case 0x28: position += 1; return .leftParen
        case 0x29: position += 1; return .rightParen
        case 0x2C: position += 1; return .comma
        case 0x3A:
            guard position + 1 < limit, bytes[position + 1] == 0x3D else { throw .init(message: "unexpected :") }
            position += 2
            return .declare
        case 0x3D: position += 1; return .assign
        case 0x22:  // "..."
            var out: [UInt8] = []
            position += 1
            while position < limit, bytes[position] != 0x22 {
                if bytes[position] == 0x5C, position + 1 < limit {
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
            guard position < limit else { throw .init(message: "unterminated string") }
            position += 1
            return .string(String(decoding: out, as: UTF8.self))
        case 0x60:  // `raw`
            let start = position + 1
            position = start
            while position < limit, bytes[position] != 0x60 { position += 1 }
            guard position < limit else { throw .init(message: "unterminated raw string") }
            position += 1
            return .string(String(decoding: bytes[start..<(position - 1)], as: UTF8.self))
        case 0x27:
            throw .init(message: "character constants are not supported")
        case 0x2E:
            if position + 1 < limit, bytes[position + 1] >= 0x30, bytes[position + 1] <= 0x39 { return .number(numberText()) }
            return .field(fieldChain())
        case 0x24:  // $
            position += 1
            let name = "$" + identifier()
            return .variable(name, fieldChain())
        default:
            if (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2B { return .number(numberText()) }
            if Self.isIdentifierByte(byte) { return .identifier(identifier()) }
            throw .init(message: "unexpected character \(Character(Unicode.Scalar(byte)))")
        }
    }

    /// A number literal as written (digits, letters, `.`, `_`, and a sign after an exponent's `e`).
    private mutating func numberText() -> String {
        let start = position
        position += 1
        while position < limit, Self.isIdentifierByte(bytes[position]) || bytes[position] == 0x2E
                || ((bytes[position] == 0x2B || bytes[position] == 0x2D) && (bytes[position - 1] | 0x20) == 0x65) {
            position += 1
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
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
