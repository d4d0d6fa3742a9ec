import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync pull` against real Helm 4 over OCI: charts pushed by `helm push` (helm-python-sdk)
/// into a real registry (docker-registry on 127.0.0.1, plain HTTP), then for each constraint
/// `helm pull oci://... --version C --plain-http` and `chartsync pull` pick the same version and
/// vendor the same bytes, the bytes Helm pushed.
@Suite struct PullOCIHelmInteropTests {
    /// A tiny chart packaged by `helm package --version` at each of these: a prerelease on top,
    /// and `1.0.0+build.7` (tag `1.0.0_build.7`), equal in precedence to `1.0.0`.
    static let tinyVersions = ["0.9.0", "1.0.0", "1.0.0+build.7", "1.1.0", "1.2.0-rc.1", "2.0.0-alpha.1"]

    /// The constraints asked of both; nil is no `version:` (Helm: no `--version`).
    static let constraints: [String?] = [
        nil, "*", "~1.0", "1.0.0", "1.0.0+build.7", "1.x", "<1.0.0", "^1.0.0-0", ">=1.2.0-0", "1.2.0-rc.1",
        "~1.2.0-0", "^2.0.0-0", ">2",
    ]

    private static func chartList(_ registry: RegistryServer, chart: String, version: String?, devel: Bool) -> String {
        """
        repositories:
          - name: r
            url: oci://\(registry.name)/charts
            plainHTTP: true
        charts:
          - name: \(chart)
            repository: r
        \(version.map { "    version: \"\($0)\"\n" } ?? "")\(devel ? "    devel: true\n" : "")
        """
    }

    @Test func chartsyncVendorsTheBytesHelmPulls() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let source = work.file("hello-oci")
        try FileManager.default.createDirectory(atPath: source + "/templates", withIntermediateDirectories: true)
        try work.write("hello-oci/Chart.yaml", Array("apiVersion: v2\nname: hello-oci\nversion: 0.0.0\n".utf8))
        try work.write("hello-oci/values.yaml", Array("greeting: hello\n".utf8))
        try work.write("hello-oci/templates/configmap.yaml", Array("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}
            data:
              greeting: {{ .Values.greeting | quote }}

            """.utf8))
        let examples = Fixtures.packageRoot + "/examples/repo/"
        let remote = "oci://\(registry.name)/charts"
        let sources = Self.tinyVersions.map { Helm.PushSource.directory(source, version: $0) }
            + ["hello-web-1.0.0.tgz", "hello-web-1.1.0.tgz", "hello-web-1.2.0-rc.1.tgz"].map { Helm.PushSource.archive(examples + $0) }
        let pushed = try Helm.push(sources, to: remote, destination: work.path)
        // The file Helm pushed for each `<name>-<version>.tgz`.
        let pushedDigest = Dictionary(uniqueKeysWithValues: pushed.map { (URL(fileURLWithPath: $0.file).lastPathComponent, $0.sha256) })
        try #require(pushedDigest.count == sources.count)

        // Helm wrote `+` as `_` in the tag.
        let tags = try runCommand(["curl", "-sf", registry.baseURL + "/v2/charts/hello-oci/tags/list"])
        #expect(tags.contains("\"1.0.0_build.7\""), "\(tags)")

        // Helm's `--devel` without `--version` is `--version '>0.0.0-0'` (helm pull's own rewrite);
        // the chart list's `devel: true` without a version.
        struct Question {
            let chart: String
            let version: String?
            let devel: Bool
        }
        var questions: [Question] = []
        for chart in ["hello-oci", "hello-web"] {
            questions += Self.constraints.map { Question(chart: chart, version: $0, devel: false) }
            questions.append(Question(chart: chart, version: nil, devel: true))
        }
        let answers = try Helm.resolve(questions.map {
            Helm.Case(repo: remote, chart: $0.chart, version: $0.devel ? ">0.0.0-0" : $0.version, plainHTTP: true)
        })
        try #require(answers.count == questions.count)

        var agreed = 0, found = 0
        for (question, helm) in zip(questions, answers) {
            let label = "\(question.chart) \(question.version ?? "(none)")\(question.devel ? " devel" : "")"
            let project = try PullProject(chartList: Self.chartList(registry, chart: question.chart, version: question.version,
                                                                    devel: question.devel))
            let run = try project.pull()
            guard let file = helm.file, let sha256 = helm.sha256 else {
                // Helm found nothing: chartsync refuses as an input error and vendors nothing.
                #expect(run.status == 2, "\(label): helm \(helm.error ?? "?"), chartsync exit \(run.status): \(run.stderr)")
                #expect(!project.exists("charts/external"), "\(label)")
                if run.status == 2 { agreed += 1 }
                continue
            }
            found += 1
            #expect(run.status == 0, "\(label): helm pulled \(file), chartsync: \(run.stderr)")
            let vendored = (try? FileManager.default.contentsOfDirectory(atPath: project.path + "/charts/external")) ?? []
            #expect(vendored == [file], "\(label): helm pulled \(file), chartsync vendored \(vendored)")
            #expect(pushedDigest[file] == sha256, "\(label): helm pulled other bytes than it pushed for \(file)")
            guard vendored == [file] else { continue }
            let ours = try sha256sum(file: project.path + "/charts/external/" + file)
            #expect(ours == sha256, "\(label): \(file) differs")
            // The lock names the version with `+` and the reference with the tag (`_`).
            let version = String(file.dropFirst(question.chart.count + 1).dropLast(4))
            let lock = try project.read("versions.lock")
            #expect(lock.contains("    version: \"\(version)\"\n"), "\(label): \(lock)")
            #expect(lock.contains("    url: \"\(remote)/\(question.chart):\(version.replacingOccurrences(of: "+", with: "_"))\"\n"),
                    "\(label): \(lock)")
            if ours == sha256 { agreed += 1 }
        }
        #expect(found > questions.count / 2, "only \(found) of \(questions.count) cases matched in Helm")
        #expect(agreed == questions.count, "agreed on \(agreed) of \(questions.count)")
    }
}
