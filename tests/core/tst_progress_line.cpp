// SPDX-License-Identifier: GPL-3.0-or-later
// Progress-line protocol tests: every event round-trips, unknown fields are ignored, malformed
// lines are rejected without throwing.
#include <QtTest/QtTest>

#include "core/events/progress_line.h"

using namespace apportion;

class TestProgressLine : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void roundTrip_data() {
    QTest::addColumn<QString>("event");
    QTest::newRow("started") << QStringLiteral("started");
    QTest::newRow("committed") << QStringLiteral("committed");
    QTest::newRow("progress") << QStringLiteral("progress");
    QTest::newRow("status") << QStringLiteral("status");
  }
  void roundTrip() {
    QFETCH(QString, event);
    ProgressLine in;
    in.event = event.toStdString();
    in.run_id = "0123456789abcdef0123456789abcdef";
    in.db = "/tmp/ws/workspace.sqlite";
    in.pid = 4242;
    in.step = 17;
    in.total = 200;
    in.elapsed_s = 1.5;
    in.status = "KILLED";
    in.message = "stopped \"by\" user\nsecond line";
    in.exit_code = 3;
    const std::string text = format_progress_line(in);
    QVERIFY(text.find('\n') == std::string::npos);
    const auto out = parse_progress_line(text);
    QVERIFY(out.has_value());
    QCOMPARE(QString::fromStdString(out->event), event);
    QCOMPARE(QString::fromStdString(out->run_id), QString::fromStdString(in.run_id));
    QCOMPARE(out->version, kProgressProtocolVersion);
    if (event == QStringLiteral("started")) {
      QCOMPARE(out->pid, int64_t{4242});
      QCOMPARE(QString::fromStdString(out->db), QString::fromStdString(in.db));
    } else if (event == QStringLiteral("committed")) {
      QCOMPARE(out->step, int64_t{17});
    } else if (event == QStringLiteral("progress")) {
      QCOMPARE(out->total, int64_t{200});
      QCOMPARE(out->elapsed_s, 1.5);
    } else {
      QCOMPARE(QString::fromStdString(out->status), QStringLiteral("KILLED"));
      QCOMPARE(QString::fromStdString(out->message), QString::fromStdString(in.message));
      QCOMPARE(out->exit_code, 3);
    }
  }

  void unknownFieldsAndEventsAreKept() {
    const auto line =
        parse_progress_line(R"({"v":1,"event":"hello","run_id":"r","future":{"x":1},"step":"no"})");
    QVERIFY(line.has_value());
    QCOMPARE(QString::fromStdString(line->event), QStringLiteral("hello"));
    QCOMPARE(line->step, int64_t{0});  // wrong type ignored, not thrown
  }

  void malformedLinesAreRejected_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("text") << QStringLiteral("Epoch 1/3 ...");
    QTest::newRow("truncated") << QStringLiteral("{\"v\":1,\"event\":\"sta");
    QTest::newRow("array") << QStringLiteral("[1,2]");
    QTest::newRow("no version") << QStringLiteral(R"({"event":"status"})");
    QTest::newRow("no event") << QStringLiteral(R"({"v":1})");
    QTest::newRow("event not string") << QStringLiteral(R"({"v":1,"event":3})");
  }
  void malformedLinesAreRejected() {
    QFETCH(QString, text);
    QVERIFY(!parse_progress_line(text.toStdString()).has_value());
  }
};

QTEST_APPLESS_MAIN(TestProgressLine)
#include "tst_progress_line.moc"
