import ChartSyncCore
@testable import ChartSyncTemplate
import Testing

/// A template, the values (YAML) it is rendered with, and what it gives.
struct RenderCase: Sendable, CustomTestStringConvertible {
    let template: String
    var values = ""
    var helpers = ""
    let expected: Rendered
    var testDescription: String { template.debugDescription }
}

/// A template and the `.Values` paths evaluating it reads.
struct ReadsCase: Sendable, CustomTestStringConvertible {
    let template: String
    var values = ""
    let reads: [String]
    var testDescription: String { template.debugDescription }
}

let image = "image:\n  repository: nginx\n  tag: \"1.25\"\n"

/// Fields, `$`, variables, Chart.yaml.
let accessCases: [RenderCase] = [
    RenderCase(template: "{{ .Values.image.tag }}", values: image, expected: .text("1.25")),
    RenderCase(template: "{{ .Values.a.b }}", values: "a:\n  b: x\n", expected: .text("x")),
    RenderCase(template: "[{{ .Values.missing }}]", expected: .text("[]")),
    RenderCase(template: "[{{ .Values.missing.deeper }}]", expected: .text("[]")),
    RenderCase(template: "{{ $.Values.a }}", values: "a: x", expected: .text("x")),
    RenderCase(template: "{{ with .Values.image }}{{ $.Values.a }}/{{ .repository }}{{ end }}", values: image + "a: x\n", expected: .text("x/nginx")),
    RenderCase(template: "{{ .Chart.Name }}-{{ .Chart.Version }}@{{ .Chart.AppVersion }}", expected: .text("demo-1.2.3@4.5.6")),
    RenderCase(template: "{{ .Release.Name }}", expected: .unknown("renders something known only at install time")),
    RenderCase(template: "{{ .Values.image }}", values: image, expected: .unknown("renders the map or list .Values.image")),
    RenderCase(template: "{{ .Values.tag }}", values: "tag: 1.10", expected: .text("1.1")),
    RenderCase(template: "{{ .Values.tag }}", values: "tag: \"1.10\"", expected: .text("1.10")),
    RenderCase(template: "{{ .Values.date }}", values: "date: 20230101", expected: .text("2.0230101e+07")),
    RenderCase(template: "{{ .Values.image.tag.more }}", values: image, expected: .unknown("reads .Values.image.tag.more in a way chartsync does not follow")),
    RenderCase(template: "{{ $x := .Values.a }}{{ $x }}", values: "a: x", expected: .text("x")),
    RenderCase(template: #"{{ $x := "a" }}{{ $x = "b" }}{{ $x }}"#, expected: .text("b")),
    RenderCase(template: "{{ $y }}", expected: .unknown("uses the undefined variable $y")),
    RenderCase(template: #"{{ $x := "out" }}{{ if true }}{{ $x = "in" }}{{ end }}{{ $x }}"#, expected: .text("in")),
    RenderCase(template: #"{{ $x := "out" }}{{ if true }}{{ $x := "in" }}{{ end }}{{ $x }}"#, expected: .text("out")),
    RenderCase(template: "{{ with $v := .Values.a }}{{ $v }}{{ end }}", values: "a: x", expected: .text("x")),
]

/// The functions image references are built with.
let functionCases: [RenderCase] = [
    RenderCase(template: #"{{ .Values.tag | default "latest" }}"#, expected: .text("latest")),
    RenderCase(template: #"{{ .Values.image.tag | default "latest" }}"#, values: image, expected: .text("1.25")),
    RenderCase(template: #"{{ default "x" .Values.empty }}"#, values: "empty: \"\"", expected: .text("x")),
    RenderCase(template: "{{ .Values.tag | default .Chart.AppVersion }}", expected: .text("4.5.6")),
    RenderCase(template: #"{{ printf "%s:%s" .Values.image.repository .Values.image.tag }}"#, values: image, expected: .text("nginx:1.25")),
    RenderCase(template: #"{{ printf "%d%%" 5 }}"#, expected: .text("5%")),
    RenderCase(template: #"{{ printf "%q" "a" }}"#, expected: .unknown("uses the printf verb %q")),
    RenderCase(template: #"{{ printf "%s/%s" "a" }}"#, expected: .unknown("has a printf with too few arguments")),
    RenderCase(template: #"{{ print "a" "b" }}"#, expected: .text("ab")),
    RenderCase(template: "{{ .Values.a | quote }}", values: "a: x", expected: .text("\"x\"")),
    RenderCase(template: #"{{ squote "a" }}"#, expected: .text("'a'")),
    RenderCase(template: "[{{ quote .Values.missing }}]", expected: .text("[]")),
    RenderCase(template: #"{{ quote "a\"b" }}"#, expected: .unknown("quotes text with quotes in it")),
    RenderCase(template: #"{{ trim "  a b  " }}"#, expected: .text("a b")),
    RenderCase(template: #"{{ "ABC" | lower }}{{ upper "def" }}"#, expected: .text("abcDEF")),
    RenderCase(template: #"{{ trimSuffix "-dev" "app-dev" }}"#, expected: .text("app")),
    RenderCase(template: #"{{ "v1.2" | trimPrefix "v" }}"#, expected: .text("1.2")),
    RenderCase(template: #"{{ replace "/" "-" "a/b/c" }}"#, expected: .text("a-b-c")),
    RenderCase(template: "{{ toString 5 }}", expected: .text("5")),
    RenderCase(template: #"{{ required "set it" .Values.a }}"#, values: "a: x", expected: .text("x")),
    RenderCase(template: #"{{ required "set it" .Values.a }}"#, expected: .unknown("requires a value that is not set")),
    RenderCase(template: #"{{ coalesce .Values.a .Values.b "c" }}"#, values: "b: \"\"", expected: .text("c")),
    RenderCase(template: #"{{ ternary "y" "n" .Values.on }}"#, values: "on: true", expected: .text("y")),
    RenderCase(template: #"{{ hasKey .Values.m "k" }}/{{ hasKey .Values.m "z" }}"#, values: "m:\n  k: 1\n", expected: .text("true/false")),
    RenderCase(template: "{{ not .Values.a }}/{{ empty .Values.missing }}", values: "a: x", expected: .text("false/true")),
    RenderCase(template: "{{ tpl .Values.t . }}", values: "t: \"{{ .Chart.Name }}\"", expected: .unknown("calls tpl")),
    RenderCase(template: #"{{ "x" | .Values.a }}"#, values: "a: x", expected: .unknown("pipes into a value")),
    RenderCase(template: "{{ .Values.a | quote | upper }}", values: "a: x", expected: .text("\"X\"")),
    RenderCase(template: "{{ (.Values.image).repository }}", values: image, expected: .text("nginx")),
    RenderCase(template: #"{{ printf "%s" (.Values.a | upper) }}"#, values: "a: x", expected: .text("X")),
    RenderCase(template: "{{ .a | }}", expected: .unknown("cannot be parsed: empty command")),
    RenderCase(template: "{{ 'a' }}", expected: .unknown("cannot be parsed: character constants are not supported")),
]

/// Conditions, loops and named templates.
let controlCases: [RenderCase] = [
    RenderCase(template: "{{ if .Values.on }}A{{ else }}B{{ end }}", values: "on: true", expected: .text("A")),
    RenderCase(template: "{{ if .Values.on }}A{{ else }}B{{ end }}", values: "on: false", expected: .text("B")),
    RenderCase(template: "{{ if .Values.on }}A{{ else }}B{{ end }}", values: "on: yes", expected: .text("A")),
    RenderCase(template: "{{ if .Values.on }}A{{ else }}B{{ end }}", expected: .text("B")),
    RenderCase(template: "{{ if .Values.n }}A{{ else }}B{{ end }}", values: "n: 0", expected: .text("B")),
    RenderCase(template: "{{ if .Values.s }}A{{ else }}B{{ end }}", values: "s: \"0\"", expected: .text("A")),
    RenderCase(template: "{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}", values: "b: 1", expected: .text("B")),
    RenderCase(template: "{{ with .Values.image }}{{ .repository }}{{ end }}", values: image, expected: .text("nginx")),
    RenderCase(template: "{{ with .Values.none }}X{{ else }}Y{{ end }}", expected: .text("Y")),
    RenderCase(template: "[{{ range .Values.list }}x{{ end }}]", values: "list: []", expected: .text("[]")),
    RenderCase(template: "{{ range .Values.list }}x{{ else }}none{{ end }}", values: "list: []", expected: .text("none")),
    RenderCase(template: "{{ range .Values.list }}x{{ end }}", values: "list: [1]", expected: .unknown("loops with range")),
    RenderCase(template: "{{ if .Release.IsInstall }}A{{ end }}", expected: .unknown("tests something known only at install time")),
    RenderCase(template: #"{{ if eq .Values.mode "standalone" }}S{{ else }}D{{ end }}"#, values: "mode: standalone", expected: .text("S")),
    RenderCase(template: "{{ if eq .Values.n 2 }}Y{{ else }}N{{ end }}", values: "n: 1", expected: .text("N")),
    RenderCase(template: #"{{ if ne .Values.n 2 }}Y{{ else }}N{{ end }}"#, values: "n: 1", expected: .text("Y")),
    RenderCase(template: #"{{ eq "a" 1 }}"#, expected: .unknown("compares values of different types")),
    RenderCase(template: "{{ if and .Values.a .Values.b }}Y{{ else }}N{{ end }}", values: "a: true\nb: false", expected: .text("N")),
    RenderCase(template: #"{{ or .Values.x "fallback" }}"#, expected: .text("fallback")),
    RenderCase(template: "{{ and false .Release.Name }}", expected: .text("false")),
    RenderCase(template: #"{{ define "n" }}[{{ .Chart.Name }}]{{ end }}{{ include "n" . }}"#, expected: .text("[demo]")),
    RenderCase(template: #"{{ template "n" . }}"#, values: "a: x", helpers: #"{{ define "n" }}<{{ .Values.a }}>{{ end }}"#, expected: .text("<x>")),
    RenderCase(template: #"{{ include "n" .Values.image }}"#, values: image, helpers: #"{{ define "n" }}{{ .repository }}:{{ .tag }}{{ end }}"#, expected: .text("nginx:1.25")),
    RenderCase(template: #"{{ include "missing" . }}"#, expected: .unknown(#"includes "missing", which no template defines"#)),
    RenderCase(template: #"{{ include "n" . }}"#, helpers: #"{{ define "n" }}{{ .Release.Name }}{{ end }}"#,
               expected: .unknown(#"includes "n", which renders something known only at install time"#)),
    RenderCase(template: #"{{ include "n" .Release }}"#, helpers: #"{{ define "n" }}x{{ end }}"#,
               expected: .unknown(#"includes "n" with data other than the chart's context"#)),
    RenderCase(template: #"{{ include "r" . }}"#, helpers: #"{{ define "r" }}{{ include "r" . }}{{ end }}"#,
               expected: .unknown(String(repeating: #"includes "r", which "#, count: 16) + "includes templates more than 16 levels deep")),
    RenderCase(template: #"{{ block "b" . }}[{{ .Chart.Name }}]{{ end }}"#, expected: .text("[demo]")),
    RenderCase(template: "{{ break }}", expected: .unknown("calls break")),
]

/// `{{-` and `-}}` trim the text beside them; comments are dropped.
let whitespaceCases: [RenderCase] = [
    RenderCase(template: "a  {{- .Values.x -}}  b", values: "x: X", expected: .text("aXb")),
    RenderCase(template: "a {{ .Values.x }} b", values: "x: X", expected: .text("a X b")),
    RenderCase(template: "line1\n{{- if true }}\nyes\n{{- end }}\n", expected: .text("line1\nyes\n")),
    RenderCase(template: "a\n  {{- /* note */ -}}\n  b", expected: .text("ab")),
    RenderCase(template: "a{{/* note */}}b", expected: .text("ab")),
    RenderCase(template: "{{-3}}", expected: .text("-3")),
    RenderCase(template: "a {{- 3 }} b", expected: .text("a3 b")),
]

let readsCases: [ReadsCase] = [
    ReadsCase(template: #"{{ .Values.image.tag | default "x" }}"#, values: image, reads: ["image.tag"]),
    ReadsCase(template: "{{ .Values.missing.deep }}", reads: ["missing.deep"]),
    ReadsCase(template: "{{ $.Values.a }}{{ with .Values.image }}{{ .repository }}{{ end }}", values: image + "a: x\n",
              reads: ["a", "image", "image.repository"]),
    ReadsCase(template: #"{{ tpl .Values.t . }}"#, values: "t: x", reads: ["t"]),
    ReadsCase(template: "{{ .Chart.Name }}", reads: []),
]

@Suite struct TemplateEvaluatorTests {
    @Test(arguments: accessCases)
    func access(_ c: RenderCase) throws {
        #expect(try TemplateHarness.render(c.template, values: c.values, helpers: c.helpers) == c.expected)
    }

    @Test(arguments: functionCases)
    func functions(_ c: RenderCase) throws {
        #expect(try TemplateHarness.render(c.template, values: c.values, helpers: c.helpers) == c.expected)
    }

    @Test(arguments: controlCases)
    func control(_ c: RenderCase) throws {
        #expect(try TemplateHarness.render(c.template, values: c.values, helpers: c.helpers) == c.expected)
    }

    @Test(arguments: whitespaceCases)
    func whitespace(_ c: RenderCase) throws {
        #expect(try TemplateHarness.render(c.template, values: c.values, helpers: c.helpers) == c.expected)
    }

    @Test(arguments: readsCases)
    func valuesReadsAreRecorded(_ c: ReadsCase) throws {
        #expect(try TemplateHarness.evaluate(c.template, values: c.values).reads == c.reads)
    }

    @Test func unquotedNumbersRenderedOtherwiseAreNoted() throws {
        let template = try GoTemplate(bytes: Array("{{ .Values.tag }}:{{ .Values.ok }}".utf8))
        let values = try TemplateHarness.values("tag: 1.10\nok: 7\n")
        var evaluator = TemplateEvaluator(context: TemplateHarness.context(values: values, templates: [template]))
        var scope = TemplateScope.top
        #expect(try evaluator.render(template.nodes, scope: &scope) == "1.1:7")
        #expect(evaluator.numbers.map { "\($0.path) \($0.written) \($0.helm)" } == ["tag 1.10 1.1"])
    }

    @Test func conditionsDeclareIntoTheScope() throws {
        let template = try GoTemplate(bytes: Array("{{ with $v := .Values.a }}{{ end }}".utf8))
        guard case .branch(let arms, _) = template.nodes[0] else { Issue.record("not a branch"); return }
        var evaluator = TemplateEvaluator(context: TemplateHarness.context(values: try TemplateHarness.values("a: x"), templates: []))
        var scope = TemplateScope.top.entering()
        let value = try evaluator.condition(arms[0].action, scope: &scope)
        #expect(try evaluator.text(of: value) == "x")
        #expect(scope.declared == ["$v"])
        #expect(try evaluator.truth(of: value))
    }

    /// `.Subcharts.NAME` as Helm gives it: the enabled subchart's own scope (its values, which are
    /// the parent's section under its name, and its Chart.yaml named as the instance), usable as
    /// `.` of `with` and `include`; a subchart that is off is not there.
    @Test(arguments: [
        (#"{{ with .Subcharts.gfd }}{{ .Values.image.repository }}:{{ .Values.image.tag | default (printf "v%s" .Chart.AppVersion) }}{{ end }}"#,
         Rendered.text("nvcr.io/gfd:v0.8.0"), ["gfd.image.repository", "gfd.image.tag"]),
        (#"{{ include "image" .Subcharts.gfd }}"#, .text("nvcr.io/gfd@gfd"), ["gfd.image.repository"]),
        (#"{{ include "image" . }}"#, .text("nvcr.io/parent@demo"), ["image.repository"]),
        ("{{ if .Subcharts.nfd }}on{{ else }}off{{ end }}", .text("off"), []),
        ("{{ if .Subcharts }}some{{ end }}/{{ if .Subcharts.gfd.Subcharts }}deeper{{ else }}none{{ end }}", .text("some/none"), []),
        ("{{ .Subcharts.gfd.Values.image.repository }}/{{ $.Subcharts.gfd.Chart.Version }}", .text("nvcr.io/gfd/0.8.0"),
         ["gfd.image.repository"]),
        ("{{ .Subcharts.nfd.Values.image }}", .unknown("renders something known only at install time"), []),
        ("{{ .Subcharts.gfd }}", .unknown("renders a context object"), []),
    ] as [(String, Rendered, [String])])
    func subchartsGiveEachEnabledSubchartItsOwnScope(_ template: String, _ expected: Rendered, _ reads: [String]) throws {
        let values = try TemplateHarness.values("""
            image: {repository: nvcr.io/parent}
            gfd:
              image: {repository: nvcr.io/gfd, tag: ""}
            nfd:
              image: {repository: nfd}
            """)
        let helper = try GoTemplate(bytes: Array(#"{{ define "image" }}{{ .Values.image.repository }}@{{ .Chart.Name }}{{ end }}"#.utf8))
        let parsed = try GoTemplate(bytes: Array(template.utf8))
        let base = TemplateHarness.context(values: values, templates: [helper])
        let gfd = TemplateContext(values: try #require(values["gfd"]),
                                  metadata: ChartMetadata(name: "gfd", version: "0.8.0", appVersion: "0.8.0"), defines: base.defines)
        var evaluator = TemplateEvaluator(context: TemplateContext(values: values, metadata: TemplateHarness.chart, defines: base.defines,
                                                                   subcharts: ["gfd": gfd]))
        var scope = TemplateScope.top
        let rendered: Rendered
        do throws(TemplateUnknown) {
            rendered = .text(try evaluator.render(parsed.nodes, scope: &scope))
        } catch {
            rendered = .unknown(error.reason)
        }
        #expect(rendered == expected)
        #expect(evaluator.reads.sorted() == reads)
    }
}
