import ChartSyncIndex
import Testing

private func parse(_ text: String) -> HelmfileDocument {
    HelmfileDocument.parse(Array(text.utf8), source: "helmfile.yaml")
}

@Suite struct HelmfileDocumentTests {
    @Test func readsReleasesReferencesAndEnvironmentsWithLines() {
        let document = parse("""
            bases:
              - common/base.yaml
            environments:
              default:
                values:
                  - env/default.yaml
                  - inline: true
                secrets:
                  - env/secrets.yaml
              lab:
                missingFileHandler: Warn
                values: [env/lab.yaml]
            ---
            helmfiles:
              - sub/a.yaml
              - path: sub/b.yaml
                values: [x.yaml]
            releases:
              - name: web
                chart: ./charts/external/web-v1.0.0
              - name: db
                version: ~1.2
                chart: bitnami/postgresql
              - name: old
                chart: stable/old
                installed: false
            """)
        #expect(document.invalid.isEmpty)
        #expect(document.bases.map(\.path) == ["common/base.yaml"])
        #expect(document.helmfiles.map { "\($0.path):\($0.line)" } == ["sub/a.yaml:15", "sub/b.yaml:16"])
        #expect(document.environmentFiles.map { "\($0.environment!) \($0.path):\($0.line) \($0.missingAllowed)" }
                == ["default env/default.yaml:6 false", "default env/secrets.yaml:9 false", "lab env/lab.yaml:12 true"])
        #expect(document.releases.map { "\($0.name) \($0.chart ?? "-") \($0.chartLine) \($0.version ?? "-") \($0.versionLine) \($0.uninstalled)" }
                == ["web ./charts/external/web-v1.0.0 20 - 19 false", "db bitnami/postgresql 23 ~1.2 22 false", "old stable/old 25 - 24 true"])
    }

    @Test func templatesAreBlankedAndListedNeverEvaluated() {
        let document = parse("""
            {{ $env := .Environment.Name }}
            releases:
            {{- range $i, $r := .Values.extra }}
              - name: {{ $r.name }}
                chart: {{ $r.chart }}
            {{- end }}
              - name: app-{{ env "SITE" }}
                chart: example/app
                version: {{ requiredEnv "APP_VERSION" }}
              - name: {{/* comment */}}plain
                chart: ./charts/custom/plain
            """)
        #expect(document.invalid.isEmpty, "\(document.invalid)")
        #expect(document.unevaluated.map(\.line) == [1, 3, 4, 5, 7, 9])
        #expect(document.unevaluated[0].reason.contains(".Environment"))
        #expect(document.unevaluated[2].reason == "template variables or functions")
        #expect(document.unevaluated[4].reason.contains("environment variable"))
        #expect(document.releases.map(\.name) == ["{{…}}", "app-{{…}}", "plain"])
        #expect(document.releases.map(\.chartTemplated) == [true, false, false])
        #expect(document.releases.map(\.versionTemplated) == [false, true, false])
        #expect(document.releases[1].chartLine == 8)
    }

    @Test func partsAreReadOneByOneAndABrokenPartIsReported() {
        let document = parse("""
            releases:
              - name: a
                chart: ./a
            ---
            releases: [unclosed
            ---
            releases:
              - name: b
                chart: ./b
            """)
        #expect(document.releases.map { "\($0.name):\($0.chartLine)" } == ["a:3", "b:9"])
        #expect(document.invalid.count == 1)
        #expect(document.invalid.first?.templated == false)
        #expect(document.invalid.first.map { $0.line >= 5 && $0.line <= 6 } == true, "\(document.invalid)")
    }

    @Test func mergeKeysAndInheritedTemplatesGiveTheChart() {
        let document = parse("""
            templates:
              base: &base
                chart: ./charts/custom/app
                version: 1.0.0
            releases:
              - name: merged
                <<: *base
              - name: inherited
                inherit:
                  - template: base
              - name: unknown
                inherit:
                  - template: elsewhere
            """)
        #expect(document.invalid.isEmpty, "\(document.invalid)")
        #expect(document.releases.map { "\($0.name) \($0.chart ?? "-") \($0.chartLine) \($0.inheritsUnknown)" }
                == ["merged ./charts/custom/app 3 false", "inherited ./charts/custom/app 3 false", "unknown - 11 true"])
    }
}
