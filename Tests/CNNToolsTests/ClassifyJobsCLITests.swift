// `cnnrt classify --jobs N`: N threads, one context each on one loaded model;
// the output must be byte-identical to --jobs 1 (same order, same values),
// also when an image in the middle fails.
import Foundation
import Testing

@Suite struct ClassifyJobsCLITests {
  let model = repoRoot.appendingPathComponent("models/mnist.cnnrt").path
  let digits = repoRoot.appendingPathComponent("samples/mnist").path

  @Test func classify_folder_with_jobs_prints_what_jobs_1_prints() throws {
    try withTempDir { dir in
      let one = try cnnrt(["classify", model, digits, "--jobs", "1", "--top", "10"], in: dir)
      #expect(one.code == 0, "\(one.stderr)")
      let lines = one.stdout.split(separator: "\n")
      #expect(lines.count == 20)
      #expect(lines.first?.hasPrefix("\(digits)/digit_0_0.pgm: 0 ") == true, "\(one.stdout)")
      for jobs in ["2", "3", "7", "64"] {
        let many = try cnnrt(["classify", model, digits, "--jobs", jobs, "--top", "10"], in: dir)
        #expect(many.code == 0, "\(many.stderr)")
        #expect(many.stdout == one.stdout, "--jobs \(jobs)")
      }
      let json1 = try cnnrt(["classify", model, digits, "--jobs", "1", "--json"], in: dir)
      let json2 = try cnnrt(["classify", model, digits, "--jobs", "2", "--json"], in: dir)
      #expect(json1.code == 0 && json2.code == 0)
      #expect(json1.stdout == json2.stdout)
    }
  }

  @Test func many_images_with_jobs_match_jobs_1_and_the_file_names() throws {
    try withTempDir { dir in
      // 200 paths (the 20 bundled digits 10 times over) so
      // that every thread classifies many images on its own context.
      let pgms = try FileManager.default.contentsOfDirectory(atPath: digits).filter { $0.hasSuffix(".pgm") }.sorted()
      let paths = (0..<10).flatMap { _ in pgms.map { "\(digits)/\($0)" } }
      let one = try cnnrt(["classify", model, "--top", "1", "--jobs", "1"] + paths, in: dir)
      let two = try cnnrt(["classify", model, "--top", "1", "--jobs", "2"] + paths, in: dir)
      #expect(one.code == 0 && two.code == 0, "\(one.stderr) \(two.stderr)")
      #expect(two.stdout == one.stdout)
      let lines = two.stdout.split(separator: "\n").map(String.init)
      #expect(lines.count == 200)
      for (path, line) in zip(paths, lines) {
        let digit = URL(fileURLWithPath: path).lastPathComponent.dropFirst("digit_".count).prefix(1)
        #expect(line.hasPrefix("\(path): \(digit) "), "\(line)")
      }
    }
  }

  @Test func a_bad_image_stops_jobs_2_where_jobs_1_stops() throws {
    try withTempDir { dir in
      let bad = dir.appendingPathComponent("bad.png").path
      try Data("not an image".utf8).write(to: URL(fileURLWithPath: bad))
      let args = ["classify", model, "\(digits)/digit_1_0.pgm", "\(digits)/digit_2_0.pgm", bad,
                  "\(digits)/digit_3_0.pgm", "\(digits)/digit_4_0.pgm"]
      let one = try cnnrt(args + ["--jobs", "1"], in: dir)
      let two = try cnnrt(args + ["--jobs", "2"], in: dir)
      #expect(one.code == 4)
      #expect(two.code == one.code)
      #expect(two.stdout == one.stdout)
      #expect(two.stdout.split(separator: "\n").count == 2)
      #expect(two.stderr == one.stderr)
      #expect(two.stderr.hasPrefix("cnnrt: \(bad): "), "\(two.stderr)")
    }
  }

  @Test func jobs_below_1_is_a_usage_error() throws {
    try withTempDir { dir in
      let r = try cnnrt(["classify", model, digits, "--jobs", "0"], in: dir)
      #expect(r.code == 64)
      #expect(r.stderr.contains("--jobs must be at least 1"), "\(r.stderr)")
    }
  }
}
