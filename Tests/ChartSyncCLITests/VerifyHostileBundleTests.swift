import ChartSyncTestSupport
import Foundation
import Testing

/// Hostile bundles through the CLI: exit code, message, and nothing outside the destination.
@Suite struct VerifyHostileBundleTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        /// Python statements adding entries to `tar` (a tarfile.TarFile); helpers f(name, data), sym(name, target).
        let entries: String
        /// The payload files the manifest lists (path -> content).
        let listed: [String: String]
        let message: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "symlink then a write through it",
             entries: "sym('payload/charts', OUTSIDE); f('payload/charts/evil', b'pwned')",
             listed: ["charts/evil": "pwned"], message: "is a symbolic link"),
        Case(name: "prefix trick", entries: "f('payload-evil/x', b'pwned')", listed: ["x": "pwned"], message: "is outside \"payload/\""),
        Case(name: "dot-dot escape", entries: "f('payload/../../escaped', b'pwned')", listed: ["escaped": "pwned"], message: "'..' component"),
        Case(name: "absolute path", entries: "f(OUTSIDE + '/abs', b'pwned')", listed: ["abs": "pwned"], message: "absolute path"),
        Case(name: "not in the manifest", entries: "f('payload/a', b'a'); f('payload/extra', b'pwned')", listed: ["a": "a"], message: "is not in the manifest"),
        Case(name: "larger than the manifest says", entries: "f('payload/a', b'aaaa')", listed: ["a": "a"], message: "the manifest says"),
        Case(name: "content differs", entries: "f('payload/a', b'b')", listed: ["a": "a"], message: "is corrupt: expected sha256"),
        Case(name: "setuid", entries: "f('payload/a', b'a', mode=0o4755)", listed: ["a": "a"], message: "setuid"),
        Case(name: "hard link", entries: "f('payload/a', b'a'); hard('payload/b', 'payload/a')", listed: ["a": "a", "b": "a"], message: "is a hard link"),
        Case(name: "missing file", entries: "f('payload/a', b'a')", listed: ["a": "a", "b": "b"], message: "missing from the bundle"),
    ]

    @Test(arguments: cases)
    func refused(_ c: Case) throws {
        let dir = try TemporaryDirectory()
        let outside = dir.file("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        // The manifest lists what the case claims; the entries are what the attacker wrote.
        let files = c.listed.sorted { $0.key < $1.key }.map { path, content -> String in
            let sha = String(try! runCommand(["sh", "-c", "printf %s \"$0\" | sha256sum", content]).prefix(64))
            return "{\"path\": \"\(path)\", \"size\": \(content.utf8.count), \"sha256\": \"\(sha)\", \"mode\": \"0644\"}"
        }
        let manifest = "{\"format\": \"chartsync-bundle/1\", \"name\": \"evil\", \"sequence\": 1, \"chartsyncVersion\": \"0\", \"charts\": [], \"files\": [\(files.joined(separator: ", "))]}\n"
        let script = """
            import io, sys, tarfile
            OUTSIDE = sys.argv[2]
            tar = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
            def add(t, data=None):
                t.mtime, t.uid, t.gid = 0, 0, 0
                tar.addfile(t, io.BytesIO(data) if data is not None else None)
            def f(name, data, mode=0o644):
                t = tarfile.TarInfo(name); t.size, t.mode = len(data), mode; add(t, data)
            def sym(name, target):
                t = tarfile.TarInfo(name); t.type, t.linkname, t.mode = tarfile.SYMTYPE, target, 0o777; add(t)
            def hard(name, target):
                t = tarfile.TarInfo(name); t.type, t.linkname = tarfile.LNKTYPE, target; add(t)
            f('MANIFEST', sys.argv[3].encode())
            \(c.entries)
            tar.close()
            """
        try runCommand(["python3", "-c", script, dir.file("evil.bundle"), outside, manifest])
        // The destination is a chartsync site holding an earlier delivery of the same name, so the
        // bundle is admitted and refused for what it holds (a foreign directory is refused first).
        let site = dir.file("site")
        try dir.write("site/keep", Array("previous".utf8))
        let keepSHA = String(try runCommand(["sh", "-c", "printf previous | sha256sum"]).prefix(64))
        let installedManifest = "{\"format\": \"chartsync-bundle/1\", \"name\": \"evil\", \"sequence\": 0, \"chartsyncVersion\": \"0\", \"charts\": [], \"files\": [{\"path\": \"keep\", \"size\": 8, \"sha256\": \"\(keepSHA)\", \"mode\": \"0644\"}]}\n"
        try dir.write("site/.chartsync/MANIFEST", Array(installedManifest.utf8))
        let manifestSHA = String(try runCommand(["sha256sum", site + "/.chartsync/MANIFEST"]).prefix(64))
        try dir.write("site/.chartsync/installed.json", Array("{\"format\": \"chartsync-installed/1\", \"name\": \"evil\", \"sequence\": 0, \"manifest\": \"sha256:\(manifestSHA)\", \"signer\": null}\n".utf8))
        let run = try CLI.run(["verify", dir.file("evil.bundle"), "--extract", site], in: dir.path)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains(c.message), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: site).sorted() == [".chartsync", "keep"])
        #expect(try String(contentsOfFile: site + "/keep", encoding: .utf8) == "previous")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["evil.bundle", "outside", "site"])
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/../escaped"))
    }
}
