@testable import ChartSyncTemplate
import Testing

/// An action's text and its parsed pipeline as ``TemplateHarness`` prints it.
struct PipelineCase: Sendable, CustomTestStringConvertible {
    let action: String
    let parsed: String
    var testDescription: String { "{{ \(action) }}" }
}

/// A template and its tree as ``TemplateHarness`` prints it.
struct TreeCase: Sendable, CustomTestStringConvertible {
    let template: String
    let tree: String
    var testDescription: String { template.debugDescription }
}

/// A template that cannot be parsed, with the line and message of the error.
struct ParseErrorCase: Sendable, CustomTestStringConvertible {
    let template: String
    let line: Int
    let message: String
    var testDescription: String { template.debugDescription }
}

let pipelineCases: [PipelineCase] = [
    PipelineCase(action: ".Values.image.tag", parsed: ".Values.image.tag"),
    PipelineCase(action: ".", parsed: "."),
    PipelineCase(action: "$", parsed: "$"),
    PipelineCase(action: "$.Values.a", parsed: "$.Values.a"),
    PipelineCase(action: "$x := .Values.a", parsed: "$x := .Values.a"),
    PipelineCase(action: "$k, $v := .Values.m", parsed: "$k, $v := .Values.m"),
    PipelineCase(action: "$x = 1", parsed: "$x = 1"),
    PipelineCase(action: #".Values.tag | default "latest" | quote"#, parsed: #".Values.tag | default "latest" | quote"#),
    PipelineCase(action: #"printf "%s:%s" .Values.repo (.Values.tag | toString)"#, parsed: #"printf "%s:%s" .Values.repo (.Values.tag | toString)"#),
    PipelineCase(action: #"include "x.name" ."#, parsed: #"include "x.name" ."#),
    PipelineCase(action: "(.Values.img).repo", parsed: "(.Values.img).repo"),
    PipelineCase(action: #"(include "x" .).a"#, parsed: #"(include "x" .).a"#),
    PipelineCase(action: #"not (eq .a "b")"#, parsed: #"not (eq .a "b")"#),
    PipelineCase(action: "eq .a 1 2", parsed: "eq .a 1 2"),
    PipelineCase(action: "true", parsed: "true"),
    PipelineCase(action: "nil", parsed: "nil"),
    PipelineCase(action: "-1.5e+3", parsed: "-1.5e+3"),
    PipelineCase(action: #"`raw "q"`"#, parsed: #""raw \"q\"""#),
    PipelineCase(action: #""a\tb""#, parsed: #""a\tb""#),
    PipelineCase(action: #""}}""#, parsed: #""}}""#),
    // Pipelines that cannot be parsed: the template still parses; the action keeps the error.
    PipelineCase(action: ".a |", parsed: "error: empty command"),
    PipelineCase(action: #".a "b""#, parsed: "error: a value cannot take arguments"),
    PipelineCase(action: "( .a", parsed: "error: unclosed ("),
    PipelineCase(action: "'a'", parsed: "error: character constants are not supported"),
    PipelineCase(action: ".a : .b", parsed: "error: unexpected :"),
    PipelineCase(action: #""\z""#, parsed: "error: unsupported escape in a string"),
    PipelineCase(action: ".a )", parsed: "error: unexpected )"),
    PipelineCase(action: "$x :=", parsed: "error: empty command"),
    PipelineCase(action: "@", parsed: "error: unexpected character @"),
]

let treeCases: [TreeCase] = [
    TreeCase(template: "a{{ .x }}b", tree: #""a" {{.x}} "b""#),
    TreeCase(template: "a  {{- .x -}}  b", tree: #""a" {{.x}} "b""#),
    TreeCase(template: "a {{- /* c */ -}} b", tree: #""a" "b""#),
    TreeCase(template: "{{/* only a comment */}}", tree: ""),
    TreeCase(template: "{{-3}}", tree: "{{-3}}"),
    TreeCase(template: "a\n{{- if true }}\nyes\n{{- end }}\n", tree: #""a" if true {"\nyes"} "\n""#),
    TreeCase(template: "{{ if .a }}A{{ else if .b }}B{{ else with .c }}C{{ else }}D{{ end }}",
             tree: #"if .a {"A"} else if .b {"B"} else with .c {"C"} else {"D"}"#),
    TreeCase(template: "{{ if .a }}A{{ else\tif .b }}B{{ end }}", tree: #"if .a {"A"} else if .b {"B"}"#),
    TreeCase(template: "{{if.a}}x{{end}}", tree: #"if .a {"x"}"#),
    TreeCase(template: "{{ with $v := .a }}{{ $v }}{{ end }}", tree: "with $v := .a {{{$v}}}"),
    TreeCase(template: "{{ range $i, $e := .l }}x{{ else }}y{{ end }}", tree: #"range $i, $e := .l {"x"} else {"y"}"#),
    TreeCase(template: #"{{ define "n" }}N{{ end }}{{ block "b" .Values }}B{{ end }}"#, tree: #"define "n" {"N"} block "b" .Values {"B"}"#),
    TreeCase(template: "{{ break }}{{ continue }}", tree: "{{break}} {{continue}}"),
    TreeCase(template: "{{ iffy }}{{ endless }}", tree: "{{iffy}} {{endless}}"),
    TreeCase(template: "a{{ .x | }}b", tree: #""a" {{error: empty command}} "b""#),
    TreeCase(template: "{{ if ( .a }}x{{ end }}", tree: #"if error: unclosed ( {"x"}"#),
]

let parseErrorCases: [ParseErrorCase] = [
    ParseErrorCase(template: "{{ .a", line: 1, message: "unclosed action"),
    ParseErrorCase(template: #"{{ "abc }}"#, line: 1, message: "unclosed action"),
    ParseErrorCase(template: "a\n{{ end }}", line: 2, message: "{{ end }} without an opening if, with, range, define or block"),
    ParseErrorCase(template: "\n\n{{ else }}", line: 3, message: "{{ else }} without an opening if, with, range, define or block"),
    ParseErrorCase(template: "x\n{{ if .a }}\n{{ end }}\n{{ end }}", line: 4, message: "{{ end }} without an opening if, with, range, define or block"),
    ParseErrorCase(template: "{{ if .a }}x", line: 1, message: "{{ if }} without {{ end }}"),
    ParseErrorCase(template: "{{ with .a }}x", line: 1, message: "{{ with }} without {{ end }}"),
    ParseErrorCase(template: "{{ range .a }}", line: 1, message: "{{ range }} without {{ end }}"),
    ParseErrorCase(template: "{{ if .a }}\n{{ else }}x", line: 2, message: "{{ else }} without {{ end }}"),
    ParseErrorCase(template: "{{ with .a }}\n{{ else }}\n{{ else }}{{ end }}", line: 2, message: "{{ else }} without {{ end }}"),
    ParseErrorCase(template: "{{ define x }}{{ end }}", line: 1, message: "{{ define }} without a quoted name"),
    ParseErrorCase(template: #"{{ define "a" }}"#, line: 1, message: "{{ define }} without {{ end }}"),
    ParseErrorCase(template: "{{ block \"b\" . }}\n{{ else }}{{ end }}", line: 1, message: "{{ block }} without {{ end }}"),
    ParseErrorCase(template: "{{/* x ", line: 1, message: "unclosed comment"),
    ParseErrorCase(template: "{{/* x */ y }}", line: 1, message: "comment not followed by }}"),
]

@Suite struct GoTemplateTests {
    @Test(arguments: pipelineCases)
    func actionPipelineIsParsedWithTheTemplate(_ c: PipelineCase) throws {
        let template = try GoTemplate(bytes: Array("{{ \(c.action) }}".utf8))
        guard template.nodes.count == 1, case .action(let action) = template.nodes[0] else {
            Issue.record("not one action: \(TemplateHarness.describe(template.nodes))")
            return
        }
        #expect(action.text == c.action)
        #expect(TemplateHarness.describe(action.pipeline) == c.parsed)
    }

    @Test(arguments: treeCases)
    func tree(_ c: TreeCase) throws {
        let template = try GoTemplate(bytes: Array(c.template.utf8))
        #expect(TemplateHarness.describe(template.nodes) == c.tree)
    }

    @Test(arguments: parseErrorCases)
    func parseError(_ c: ParseErrorCase) {
        #expect(throws: GoTemplate.ParseError.self) { try GoTemplate(bytes: Array(c.template.utf8)) }
        do throws(GoTemplate.ParseError) {
            _ = try GoTemplate(bytes: Array(c.template.utf8))
        } catch {
            #expect(error.line == c.line)
            #expect(error.message == c.message)
        }
    }

    @Test func actionsKnowTheirLineAndOffsets() throws {
        let template = try GoTemplate(bytes: Array("ab\n{{ .x }}\n{{- if .y }}{{ end }}".utf8), firstLine: 10)
        guard case .action(let action) = template.nodes[1], case .branch(let arms, _) = template.nodes[3] else {
            Issue.record("unexpected tree: \(TemplateHarness.describe(template.nodes))")
            return
        }
        #expect((action.line, action.start, action.end) == (11, 3, 11))
        #expect((arms[0].action.line, arms[0].action.text) == (12, ".y"))
        #expect(throws: GoTemplate.ParseError.self) { try GoTemplate(bytes: Array("a\n{{ .x".utf8), firstLine: 10) }
        do throws(GoTemplate.ParseError) { _ = try GoTemplate(bytes: Array("a\n{{ .x".utf8), firstLine: 10) } catch { #expect(error.line == 11) }
    }

    @Test func definesAreFoundAtAnyDepth() throws {
        let template = try GoTemplate(bytes: Array(#"{{ define "a" }}{{ end }}{{ if .x }}{{ block "b" . }}{{ define "c" }}{{ end }}{{ end }}{{ end }}"#.utf8))
        #expect(GoTemplate.defines(in: template.nodes).map(\.0) == ["a", "b", "c"])
    }
}
