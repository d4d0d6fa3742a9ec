import ChartSyncCore
import ChartSyncIndex
import Testing

private func parse(_ text: String) throws(ChartListError) -> ChartList {
    try ChartListReader.parse(Array(text.utf8), source: "chartsync.yaml")
}

@Suite struct ChartListReaderTests {
    @Test func readsEveryField() throws {
        let list = try parse("""
            repositories:
              - name: nvidia
                url: https://helm.ngc.nvidia.com/nvidia
                caFile: certs/ca.pem
                certFile: certs/client.pem
                keyFile: certs/client.key
                passCredentials: true
                usernameEnv: NGC_USER
                passwordEnv: NGC_PASS
              - name: local
                url: examples/repo
                tokenEnv: TOKEN
                insecureSkipTLSVerify: true
            charts:
              - name: gpu-operator
                repository: nvidia
                version: "~v25.3"
                unpack: true
              - name: hello-web
                repository: local
                devel: true
                allowMissingDigest: true
            """)
        #expect(list.repositories.map(\.name) == ["nvidia", "local"])
        #expect(list.repositories[0].access.caFile == "certs/ca.pem" && list.repositories[0].passCredentials)
        #expect(list.repositories[0].access.usernameEnv == "NGC_USER" && list.repositories[1].access.tokenEnv == "TOKEN")
        #expect(list.charts[0].version == "~v25.3" && list.charts[0].unpack && list.charts[0].line == 15)
        #expect(list.charts[1].version == nil && list.charts[1].devel && list.charts[1].allowMissingDigest)
    }

    struct Bad: Sendable, CustomStringConvertible {
        let name: String, text: String, line: Int, message: String
        var description: String { name }
    }

    static let header = "repositories:\n  - name: r\n    url: https://charts.example.com\ncharts:\n"

    @Test(arguments: [
        Bad(name: "unknown top key", text: "repos:\n  - name: r\n", line: 1, message: "unknown field \"repos\""),
        Bad(name: "unknown chart key", text: header + "  - name: a\n    repository: r\n    verison: 1.0\n", line: 7, message: "unknown field \"verison\""),
        Bad(name: "duplicate chart", text: header + "  - name: a\n    repository: r\n  - name: a\n    repository: r\n", line: 7, message: "chart \"a\" is listed twice (first at line 5)"),
        Bad(name: "unknown repository", text: header + "  - name: a\n    repository: nope\n", line: 5, message: "names repository \"nope\", which is not listed (known: r)"),
        Bad(name: "invalid constraint", text: header + "  - name: a\n    repository: r\n    version: \">a1\"\n", line: 5, message: "invalid version constraint \">a1\""),
        Bad(name: "unsafe name", text: header + "  - name: ../etc\n    repository: r\n", line: 5, message: "\"../etc\" is not a valid chart name"),
        Bad(name: "duplicate repository", text: "repositories:\n  - name: r\n    url: a\n  - name: r\n    url: b\n", line: 4, message: "repository \"r\" is listed twice"),
        Bad(name: "bad scheme", text: "repositories:\n  - name: r\n    url: s3://bucket/charts\n", line: 2, message: "not s3://"),
        Bad(name: "oci without a registry host", text: "repositories:\n  - name: r\n    url: oci://registry/charts\n", line: 2, message: "must be oci://HOST[:PORT]/PATH"),
        Bad(name: "oci with a bad path", text: "repositories:\n  - name: r\n    url: oci://r.example.com/Charts\n", line: 2, message: "is not a registry repository path"),
        Bad(name: "plainHTTP for http", text: "repositories:\n  - name: r\n    url: https://x.example.com\n    plainHTTP: true\n", line: 2, message: "plainHTTP applies to oci:// repositories only"),
        Bad(name: "cert without key", text: "repositories:\n  - name: r\n    url: a\n    certFile: c.pem\n", line: 2, message: "certFile and keyFile go together"),
        Bad(name: "bool", text: header + "  - name: a\n    repository: r\n    unpack: sometimes\n", line: 7, message: "true or false"),
        Bad(name: "duplicate key", text: header + "  - name: a\n    name: b\n", line: 6, message: "duplicate key \"name\""),
        Bad(name: "syntax", text: header + "  - name: a\n   repository: r\n", line: 6, message: "did not find expected"),
        Bad(name: "extra image without tag", text: header + "images:\n  extra:\n    - busybox\n", line: 7, message: "needs a tag or a digest"),
        Bad(name: "invalid extra image", text: header + "images:\n  extra:\n    - \"{{ .Values.image }}\"\n", line: 7, message: "invalid image reference"),
        Bad(name: "unknown images key", text: header + "images:\n  include: []\n", line: 6, message: "unknown field \"include\""),
        Bad(name: "registry without host", text: header + "images:\n  registries:\n    - plainHTTP: true\n", line: 7, message: "a registry needs a host"),
        Bad(name: "registry host with path", text: header + "images:\n  registries:\n    - host: example.com/v2\n", line: 7, message: "host must be a registry name"),
        Bad(name: "registry twice", text: header + "images:\n  registries:\n    - host: r.example.com\n    - host: r.example.com\n", line: 8, message: "listed twice"),
        Bad(name: "values not a list", text: header + "  - name: a\n    repository: r\n    values: v.yaml\n", line: 7, message: "must be a list"),
        Bad(name: "values absolute", text: header + "  - name: a\n    repository: r\n    values: [/etc/v.yaml]\n", line: 7,
            message: "chart \"a\": values: \"/etc/v.yaml\" must be a file path relative to the chart list"),
        Bad(name: "values outside", text: header + "  - name: a\n    repository: r\n    values:\n      - v.yaml\n      - ../v.yaml\n", line: 9,
            message: "\"../v.yaml\" must be a file path relative to the chart list"),
        Bad(name: "values empty", text: header + "  - name: a\n    repository: r\n    values: [\"\"]\n", line: 7, message: "must be a file path"),
        Bad(name: "values a mapping", text: header + "  - name: a\n    repository: r\n    values:\n      - a: b\n", line: 8, message: "must be a string"),
        Bad(name: "registry half credentials", text: header + "images:\n  registries:\n    - host: r.example.com\n      usernameEnv: U\n", line: 7, message: "usernameEnv and passwordEnv go together"),
    ])
    func refusedWithLine(_ c: Bad) {
        do {
            _ = try parse(c.text)
            Issue.record("accepted")
        } catch {
            #expect(error.line == c.line, "\(error)")
            #expect(error.message.contains(c.message), "\(error)")
            #expect(error.description.hasPrefix("chartsync.yaml: line \(c.line): "))
        }
    }

    @Test func imagesSection() throws {
        let list = try parse(Self.header + """
            images:
              extra:
                - busybox:1.36
                - quay.io/team/operand@sha256:\(String(repeating: "c", count: 64))
              exclude:
                - docker.io/bitnami/os-shell
              registries:
                - host: 127.0.0.1:5000
                  plainHTTP: true
                  usernameEnv: REG_USER
                  passwordEnv: REG_PASS
                - host: registry.example.com
                  caFile: certs/ca.pem
                  tokenEnv: REG_TOKEN

            """)
        #expect(list.images.extra.map(\.text) == ["busybox:1.36", "quay.io/team/operand@sha256:" + String(repeating: "c", count: 64)])
        #expect(list.images.extra.map(\.line) == [7, 8])
        #expect(list.images.exclude.map(\.text) == ["docker.io/bitnami/os-shell"])
        let local = try #require(list.images.registry("127.0.0.1:5000"))
        #expect(local.plainHTTP && local.access.usernameEnv == "REG_USER" && local.access.passwordEnv == "REG_PASS")
        #expect(list.images.registry("registry.example.com")?.access.caFile == "certs/ca.pem")
        #expect(list.images.registry("registry.example.com")?.plainHTTP == false)
        // The images section does not change what versions.lock records.
        #expect(list.canonicalText == (try parse(Self.header)).canonicalText)
    }

    @Test func valuesFilesInOrderWithLinesAndNotInTheCanonicalText() throws {
        let plain = Self.header + "  - name: a\n    repository: r\n"
        let list = try parse(plain + "    values:\n      - values/a.yaml\n      - values/site/a.yaml\n      - values/a.yaml\n")
        #expect(list.charts[0].values == [.init(path: "values/a.yaml", line: 8), .init(path: "values/site/a.yaml", line: 9),
                                          .init(path: "values/a.yaml", line: 10)])
        #expect(try parse(plain + "    values: []\n").charts[0].values.isEmpty)
        // Values change which images are used, not what is vendored: versions.lock stays current.
        #expect(list.canonicalText == (try parse(plain)).canonicalText)
    }

    @Test func ociRepositoriesAndPlainHTTPInTheCanonicalText() throws {
        let text = "repositories:\n  - name: r\n    url: oci://127.0.0.1:5000/charts/team\n    plainHTTP: true\n    tokenEnv: T\ncharts:\n  - name: a\n    repository: r\n"
        let list = try parse(text)
        #expect(list.repositories[0].isOCI && list.repositories[0].plainHTTP)
        #expect(list.repositories[0].ociLocation?.registry == "127.0.0.1:5000" && list.repositories[0].ociLocation?.path == "charts/team")
        #expect(list.canonicalText.contains("oci://127.0.0.1:5000/charts/team\tplainHTTP\t"))
        let https = try parse(text.replacingOccurrences(of: "    plainHTTP: true\n", with: ""))
        #expect(https.canonicalText != list.canonicalText)
        #expect(!https.canonicalText.contains("plainHTTP"))
    }

    @Test func canonicalDigestIgnoresCommentsOrderAndCredentials() throws {
        let a = try parse(Self.header + "  - name: a\n    repository: r\n    version: ^1\n  - name: b\n    repository: r\n")
        let b = try parse("# comment\ncharts:\n  - name: b\n    repository: r\n  - repository: r\n    version: ^1\n    name: a\nrepositories:\n  - name: r\n    url: https://charts.example.com\n    tokenEnv: T\n")
        #expect(a.canonicalText == b.canonicalText)
        let c = try parse(Self.header + "  - name: a\n    repository: r\n    version: ^2\n  - name: b\n    repository: r\n")
        #expect(a.canonicalText != c.canonicalText)
    }

    @Test func theProjectsOwnChartListIsValid() throws {
        let list = try ChartListReader.read(path: ChartListReaderTests.packageRoot + "/chartsync.yaml")
        #expect(list.charts.map(\.name) == ["hello-web", "hello-worker", "hello-common"])
    }

    static let packageRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()
}

@Suite struct LockfileCodingTests {
    static let entry = Lockfile.Entry(name: "hello-web", version: "1.1.0", constraint: "~1.1", repository: "examples/repo",
                                      url: "examples/repo/hello-web-1.1.0.tgz", sha256: Digest(String(repeating: "ab", count: 32))!,
                                      size: 699, tree: Digest(String(repeating: "cd", count: 32)))

    @Test func roundTripAndSorted() throws {
        let other = Lockfile.Entry(name: "a-chart", version: "v2.0.0", constraint: nil, repository: "https://x",
                                   url: "https://x/a-chart-v2.0.0.tgz", sha256: Digest(String(repeating: "01", count: 32))!, size: 1)
        let lock = Lockfile(chartList: Digest(String(repeating: "ef", count: 32))!, entries: [Self.entry, other])
        let text = LockfileCoding.text(lock)
        #expect(text.contains("  - name: a-chart\n    version: v2.0.0\n"))
        #expect(text.range(of: "a-chart")!.lowerBound < text.range(of: "hello-web")!.lowerBound)
        #expect(!text.contains("constraint: null"))
        let back = try LockfileCoding.parse(Array(text.utf8), source: "versions.lock")
        #expect(back == lock)
        #expect(LockfileCoding.text(back) == text)
    }

    @Test func ociEntriesKeepTheirManifestDigest() throws {
        let manifest = Digest(String(repeating: "9a", count: 32))!
        let entry = Lockfile.Entry(name: "hello-web", version: "1.2.0+build.1", constraint: nil, repository: "oci://r.example.com/charts",
                                   url: "oci://r.example.com/charts/hello-web:1.2.0_build.1", sha256: Digest(String(repeating: "ab", count: 32))!,
                                   size: 699, manifest: manifest)
        let lock = Lockfile(chartList: Digest(String(repeating: "ef", count: 32))!, entries: [entry])
        let text = LockfileCoding.text(lock)
        #expect(text.contains("    size: 699\n    manifest: \"\(manifest.prefixed)\"\n"))
        let back = try LockfileCoding.parse(Array(text.utf8), source: "versions.lock")
        #expect(back == lock && back.entries[0].isOCI)
        #expect(LockfileCoding.text(back) == text)
    }

    @Test(arguments: [
        ("lockVersion: 2\nchartList: sha256:" + String(repeating: "0", count: 64) + "\ncharts: []\n", "lockVersion must be 1"),
        ("lockVersion: 1\ncharts: []\n", "chartList"),
        ("lockVersion: 1\nchartList: sha256:xyz\ncharts: []\n", "is not a sha256 digest"),
        ("lockVersion: 1\nchartList: sha256:" + String(repeating: "0", count: 64) + "\ncharts:\n  - name: a\n    version: 1.0.0\n    extra: 1\n", "unknown field \"extra\""),
        ("lockVersion: 1\nchartList: sha256:" + String(repeating: "0", count: 64) + "\ncharts:\n  - name: ../a\n    version: 1.0.0\n", "not a valid chart name"),
        ("lockVersion: 1\nchartList: sha256:" + String(repeating: "0", count: 64) + "\ncharts:\n  - name: a\n    version: 1.0.0\n    repository: oci://r.example.com/c\n    url: oci://r.example.com/c/a:1.0.0\n    sha256: " + String(repeating: "0", count: 64) + "\n    size: 1\n", "needs manifest"),
        ("lockVersion: 1\nchartList: sha256:" + String(repeating: "0", count: 64) + "\ncharts:\n  - name: a\n    version: 1.0.0\n    repository: https://x\n    url: https://x/a-1.0.0.tgz\n    sha256: " + String(repeating: "0", count: 64) + "\n    size: 1\n    manifest: sha256:" + String(repeating: "0", count: 64) + "\n", "manifest applies to oci:// charts only"),
        ("lockVersion: 1\nchartList: sha256:" + String(repeating: "0", count: 64) + "\ncharts:\n  - name: a\n    version: 1.0.0\n    repository: oci://r.example.com/c\n    url: oci://r.example.com/c/a:1.0.0\n    sha256: " + String(repeating: "0", count: 64) + "\n    size: 1\n    manifest: md5:00\n", "is not a sha256 digest"),
    ])
    func refused(_ text: String, _ message: String) {
        #expect {
            try LockfileCoding.parse(Array(text.utf8), source: "versions.lock")
        } throws: { error in
            String(describing: error).contains(message)
        }
    }
}
