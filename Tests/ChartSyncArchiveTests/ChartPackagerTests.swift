import ChartSyncArchive
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// Chart directories packaged as `helm package` would, reproducibly: the same files give the
/// same bytes whatever their times and modes, `.helmignore` leaves out what Helm leaves out,
/// and real Helm (helm-python-sdk) loads and renders the result.
@Suite struct ChartPackagerTests {
    init() { _ = utf8Locale }

    /// What the packaged chart holds (the directory is named otherwise than the chart).
    static let expectedEntries = [
        "team-app/.helmignore", "team-app/Chart.yaml", "team-app/README.md", "team-app/charts/sub/Chart.yaml",
        "team-app/charts/sub/templates/cm.yaml", "team-app/files/notes.txt", "team-app/templates/_helpers.tpl",
        "team-app/templates/deployment.yaml", "team-app/values.yaml",
    ]

    /// A chart directory with files .helmignore leaves out: a glob, a directory rule, a rooted
    /// rule, and Helm's default (dot files in templates/).
    @discardableResult
    static func makeChart(_ temp: TemporaryDirectory, _ directory: String = "work/app-dir") throws -> String {
        let files: [(String, String)] = [
            ("Chart.yaml", "apiVersion: v2\nname: team-app\nversion: 1.2.3\ndescription: the team's app\n"),
            ("values.yaml", "image: registry.example/team/app:1.0\nreplicas: 2\n"),
            (".helmignore", "# left out\n*.bak\nsecrets/\n/notes.txt\n"),
            ("README.md", "# team-app\n"),
            ("notes.txt", "rooted: ignored\n"),
            ("files/notes.txt", "not rooted: kept\n"),
            ("old.bak", "ignored\n"),
            ("templates/x.bak", "ignored\n"),
            ("templates/.scratch.swp", "ignored by Helm's default\n"),
            ("secrets/key", "ignored with its directory\n"),
            ("templates/_helpers.tpl", "{{- define \"team-app.name\" -}}{{ .Chart.Name }}{{- end -}}\n"),
            ("templates/deployment.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {{ include "team-app.name" . }}
                spec:
                  replicas: {{ .Values.replicas }}
                  template:
                    spec:
                      containers:
                        - name: app
                          image: {{ .Values.image }}

                """),
            ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
            ("charts/sub/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub-{{ .Release.Name }}\n"),
        ]
        for (name, text) in files { try temp.write(directory + "/" + name, Array(text.utf8)) }
        return temp.file(directory)
    }

    static func package(_ directory: String, into output: String, mtime: Int64 = 0) throws -> PackagedChart {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        return try ChartPackager.package(directory: directory, name: "team-app", version: "1.2.3", into: output, mtime: mtime)
    }

    @Test func sameFilesGiveTheSameBytesWhateverTheirTimesAndModes() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-package")
        let directory = try Self.makeChart(temp)
        let first = try Self.package(directory, into: temp.file("a"))
        #expect(first.path == temp.file("a/team-app-1.2.3.tgz"))
        #expect(first.entries == Self.expectedEntries)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.file("a")) == ["team-app-1.2.3.tgz"])

        // Other times, modes and creation order: the same bytes.
        let copy = try Self.makeChart(temp, "work/copy")
        try runCommand(["sh", "-c", "find \"$1\" -type f -exec touch -d '2024-06-01 12:34:56' {} + && chmod 0600 \"$1/values.yaml\" && chmod 0755 \"$1/README.md\"", "sh", copy])
        Thread.sleep(forTimeInterval: 1.1)
        let second = try Self.package(copy, into: temp.file("b"))
        #expect(try bytes(first.path) == bytes(second.path))

        // The time given is part of the output; nothing else is.
        let dated = try Self.package(directory, into: temp.file("c"), mtime: 1_700_000_000)
        #expect(try bytes(dated.path) != bytes(first.path))

        // A changed byte changes the output.
        try temp.write("work/copy/values.yaml", Array("image: registry.example/team/app:1.1\nreplicas: 2\n".utf8))
        let changed = try Self.package(copy, into: temp.file("d"))
        #expect(try bytes(changed.path) != bytes(first.path))
    }

    @Test func entriesAreRegularFilesOwnedByRootWithFixedModeAndTime() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-package")
        let packaged = try Self.package(try Self.makeChart(temp), into: temp.file("out"), mtime: 1_577_836_800)
        let script = """
            import sys, tarfile
            with tarfile.open(sys.argv[1], "r:gz") as t:
                for m in t.getmembers():
                    print(m.name, m.type == tarfile.REGTYPE, m.uid, m.gid, repr(m.uname), repr(m.gname), oct(m.mode), m.mtime)
            """
        let lines = try runCommand(["python3", "-c", script, packaged.path]).split(separator: "\n").map(String.init)
        #expect(lines == Self.expectedEntries.map { "\($0) True 0 0 '' '' 0o644 1577836800" })
        // gzip: no time, no name, no extra field.
        #expect(Array(try bytes(packaged.path).prefix(8)) == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0])
    }

    /// Real Helm: the same files as `helm package` takes from the directory; it loads our
    /// tarball and renders it.
    @Test func helmTakesTheSameFilesAndLoadsAndRendersThePackage() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-package")
        let directory = try Self.makeChart(temp)
        let packaged = try Self.package(directory, into: temp.file("out"))
        let script = """
            import json, sys, tarfile
            from helm_python.chart import Chart, package
            ours, directory, scratch = sys.argv[1:4]
            helms = package(directory, destination=scratch)
            with tarfile.open(helms, "r:gz") as t:
                names = sorted(m.name for m in t.getmembers() if m.isfile())
            chart = Chart.load(ours)
            rendered = chart.render(name="release", namespace="site", is_install=True)
            print(json.dumps({"helm": names, "name": chart.name, "version": chart.version,
                              "rendered": {k: rendered[k] for k in sorted(rendered)}}))
            """
        let output = try runCommand(["python3", "-c", script, packaged.path, directory, temp.file("helm")])
        let answer = try #require(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
        #expect(answer["helm"] as? [String] == Self.expectedEntries, "\(output)")
        #expect(answer["name"] as? String == "team-app")
        #expect(answer["version"] as? String == "1.2.3")
        let rendered = answer["rendered"] as? [String: String] ?? [:]
        #expect(rendered["team-app/templates/deployment.yaml"]?.contains("image: registry.example/team/app:1.0") == true, "\(rendered)")
        #expect(rendered["team-app/templates/deployment.yaml"]?.contains("name: team-app") == true, "\(rendered)")
        #expect(rendered["team-app/charts/sub/templates/cm.yaml"]?.contains("name: sub-release") == true, "\(rendered)")
    }

    @Test func aLinkIsRefusedWithItsPathUnlessItIsLeftOut() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-package")
        let directory = try Self.makeChart(temp)
        try FileManager.default.createSymbolicLink(atPath: directory + "/templates/linked.yaml", withDestinationPath: "deployment.yaml")
        #expect {
            try Self.package(directory, into: temp.file("a"))
        } throws: { error in
            "\(error)".contains(directory + "/templates/linked.yaml") && "\(error)".contains("symbolic link")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.file("a")).isEmpty)

        // Left out by .helmignore: never looked at.
        try temp.write("work/app-dir/.helmignore", Array("linked.yaml\n*.bak\nsecrets/\n/notes.txt\n".utf8))
        #expect(try Self.package(directory, into: temp.file("b")).entries == Self.expectedEntries)

        try runCommand(["mkfifo", directory + "/pipe"])
        #expect {
            try Self.package(directory, into: temp.file("c"))
        } throws: { "\($0)".contains(directory + "/pipe") }
    }

    @Test func anUnusableHelmignoreOrALeftOutChartYamlIsRefused() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-package")
        let directory = try Self.makeChart(temp)
        try temp.write("work/app-dir/.helmignore", Array("*.bak\ntemplates/**/x.yaml\n".utf8))
        #expect {
            try Self.package(directory, into: temp.file("a"))
        } throws: { "\($0)".contains(".helmignore") && "\($0)".contains("line 2") && "\($0)".contains("**") }

        try temp.write("work/app-dir/.helmignore", Array("Chart.yaml\n".utf8))
        #expect {
            try Self.package(directory, into: temp.file("b"))
        } throws: { "\($0)".contains("Chart.yaml is left out") }
    }
}
