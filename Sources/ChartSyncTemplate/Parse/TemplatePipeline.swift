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
        let message: String
    }

    /// A pipeline with these parts.
    init(variables: [String], declares: Bool, expression: TemplateExpression) {
        self.variables = variables
        self.declares = declares
        self.expression = expression
    }

    /// The pipeline of an action's tokens, or why there is none: `lexingError` (why the lexer
    /// stopped before the end of the action) wins over what the tokens read so far say.
    static func parse(_ lexemes: ArraySlice<TemplateLexer.Lexeme>, lexingError: SyntaxError?) -> Result<TemplatePipeline, SyntaxError> {
        Result { () throws(SyntaxError) in
            if let lexingError { throw lexingError }
            return try TemplatePipeline(tokens: lexemes.map(\.token))
        }
    }

    /// Parses the tokens of an action (after its keyword, if any).
    init(tokens: [TemplateLexer.Token]) throws(SyntaxError) {
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
