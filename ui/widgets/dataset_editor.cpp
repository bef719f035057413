// SPDX-License-Identifier: GPL-3.0-or-later
// DatasetEditor: a list of data.datasets rows and a form for the selected one (format, files,
// eval split, template, protocol); edits patch the row's own JSON object.
#include "ui/widgets/dataset_editor.h"

#include <algorithm>

#include <QComboBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/datasets/dataset_spec.h"
#include "core/scoring/protocol.h"

namespace apportion::ui {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

/// j[key] as a string when it is one, else `fallback`.
std::string text(const nlohmann::json& j, const char* key, const std::string& fallback = {}) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return fallback;
  return j[key].get<std::string>();
}

/// A row's protocol as an object ({"id": …} for the string form; {} when absent).
nlohmann::json protocolOf(const nlohmann::json& row) {
  if (!row.is_object() || !row.contains("protocol")) return nlohmann::json::object();
  const nlohmann::json& p = row["protocol"];
  if (p.is_string()) return {{"id", p.get<std::string>()}};
  return p.is_object() ? p : nlohmann::json::object();
}

QComboBox* combo(const QStringList& items) {
  auto* c = new QComboBox;
  c->addItems(items);
  return c;
}

void setComboText(QComboBox* c, const QString& value) {
  const int i = c->findText(value);
  c->setCurrentIndex(i);  // -1 (blank) for a value the combo does not list: validation says why
}

}  // namespace

DatasetEditor::DatasetEditor(QWidget* parent)
    : QGroupBox(tr("Datasets (data.suite \"datasets\")"), parent),
      m_list(new QListWidget),
      m_add(new QPushButton(tr("Add"))),
      m_remove(new QPushButton(tr("Remove"))) {
  setToolTip(
      tr("Named datasets with their files, prompt template and evaluation protocol; each "
         "task's numbers are recorded with its protocol and split"));
  auto* layout = new QHBoxLayout(this);
  auto* left = new QVBoxLayout;
  m_list->setMinimumWidth(170);
  m_list->setMaximumWidth(260);
  left->addWidget(m_list, 1);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_add);
  buttons->addWidget(m_remove);
  left->addLayout(buttons);
  layout->addLayout(left);
  layout->addWidget(buildDetails(), 1);

  connect(m_add, &QPushButton::clicked, this, &DatasetEditor::addRow);
  connect(m_remove, &QPushButton::clicked, this, &DatasetEditor::removeSelected);
  connect(m_list, &QListWidget::currentRowChanged, this, &DatasetEditor::showRow);
  showRow(-1);
}

QWidget* DatasetEditor::buildDetails() {
  m_details = new QWidget;
  auto* grid = new QGridLayout(m_details);
  grid->setContentsMargins(0, 0, 0, 0);
  m_name = new QLineEdit;
  m_name->setToolTip(tr("Task name: the metric keys eval/acc/<name> and the table column"));
  m_format = combo({QString::fromUtf8(kFormatAlpaca), QString::fromUtf8(kFormatScienceQa),
                    QString::fromUtf8(kFormatGsm8k), QString::fromUtf8(kFormatGlue),
                    QString::fromUtf8(kFormatCsv)});
  m_format->setToolTip(
      tr("File format: alpaca (instruction/input/output JSON or JSON Lines), "
         "scienceqa, gsm8k, glue (TSV), csv"));
  m_glueTask = combo({QStringLiteral("mrpc"), QStringLiteral("cola"), QStringLiteral("rte")});
  m_glueTask->setToolTip(tr("GLUE task of a glue-format dataset"));
  m_train = new QLineEdit;
  m_train->setPlaceholderText(tr("train file (relative: to data.root)"));
  m_eval = new QLineEdit;
  m_eval->setPlaceholderText(tr("eval file (empty: no eval split)"));
  m_split = new QLineEdit;
  m_split->setPlaceholderText(QStringLiteral("test"));
  m_split->setToolTip(tr("Split name, shown with every number (test, validation, …)"));
  m_role = combo({QString::fromUtf8(kRoleTest), QString::fromUtf8(kRoleValidation)});
  m_role->setToolTip(
      tr("test: reported; validation: may choose the checkpoint "
         "(train.checkpoint_rule best_validation)"));
  m_template = combo({QStringLiteral("alpaca"), QStringLiteral("none"), QStringLiteral("qa"),
                      QStringLiteral("choose")});
  m_template->setToolTip(
      tr("Prompt template: alpaca (MoLA, LLM-Adapters), none, qa (Question: … "
         "Answer:), choose (MoE-PEFT's 'Please choose the correct answer')"));
  m_protocol = new QComboBox;
  for (const std::string& id : protocol_ids()) {
    m_protocol->addItem(qs(id));
    m_protocol->setItemData(m_protocol->count() - 1, qs(protocol_description(id)), Qt::ToolTipRole);
  }
  m_protocolHelp = new QLabel;
  m_protocolHelp->setWordWrap(true);
  m_protocolHelp->setStyleSheet(QStringLiteral("color: #555;"));
  m_pattern = new QLineEdit;
  m_pattern->setToolTip(tr("Answer regex of a generation protocol (group 1 is the answer)"));
  m_labels = new QLineEdit;
  m_labels->setPlaceholderText(QStringLiteral("A, B, C, D, E"));
  m_labels->setToolTip(tr("label_next_token: the label list, comma-separated"));
  m_fewshot = new QSpinBox;
  m_fewshot->setRange(0, 64);
  m_fewshot->setToolTip(tr("Few-shot examples drawn from the train split before each prompt"));
  m_root = new QLineEdit;
  m_root->setPlaceholderText(tr("folder the dataset paths are relative to (empty: workspace)"));
  m_rule = combo(
      {QStringLiteral("last"), QStringLiteral("best_validation"), QStringLiteral("best_test")});
  m_rule->setToolTip(
      tr("Which evaluation the reported numbers come from: the last, the best on "
         "validation, or the best on test (refused unless "
         "train.allow_best_on_test; the run is then tagged)"));

  auto withBrowse = [this](QLineEdit* edit) {
    auto* row = new QHBoxLayout;
    row->addWidget(edit, 1);
    auto* b = new QPushButton(QStringLiteral("…"));
    b->setFixedWidth(28);
    b->setToolTip(tr("Choose a file"));
    connect(b, &QPushButton::clicked, this, [this, edit] { browse(edit); });
    row->addWidget(b);
    return row;
  };
  auto label = [](const QString& t, QWidget* buddy) {
    auto* l = new QLabel(t);
    l->setBuddy(buddy);
    l->setToolTip(buddy->toolTip());
    return l;
  };
  auto pair = [](QWidget* a, QWidget* b) {
    auto* row = new QHBoxLayout;
    row->addWidget(a, 1);
    row->addWidget(b, 1);
    return row;
  };
  grid->addWidget(label(tr("Name"), m_name), 0, 0);
  grid->addWidget(m_name, 0, 1);
  grid->addWidget(label(tr("Format"), m_format), 0, 2);
  grid->addLayout(pair(m_format, m_glueTask), 0, 3);
  grid->addWidget(label(tr("Train file"), m_train), 1, 0);
  grid->addLayout(withBrowse(m_train), 1, 1);
  grid->addWidget(label(tr("Template"), m_template), 1, 2);
  grid->addWidget(m_template, 1, 3);
  grid->addWidget(label(tr("Eval file"), m_eval), 2, 0);
  grid->addLayout(withBrowse(m_eval), 2, 1);
  grid->addWidget(label(tr("Split / role"), m_split), 2, 2);
  grid->addLayout(pair(m_split, m_role), 2, 3);
  grid->addWidget(label(tr("Protocol"), m_protocol), 3, 0);
  grid->addWidget(m_protocol, 3, 1);
  grid->addWidget(label(tr("Few-shot"), m_fewshot), 3, 2);
  grid->addWidget(m_fewshot, 3, 3);
  grid->addWidget(m_protocolHelp, 4, 1, 1, 3);
  grid->addWidget(label(tr("Pattern"), m_pattern), 5, 0);
  grid->addWidget(m_pattern, 5, 1);
  grid->addWidget(label(tr("Labels"), m_labels), 5, 2);
  grid->addWidget(m_labels, 5, 3);
  grid->addWidget(label(tr("Data root"), m_root), 6, 0);
  grid->addLayout(withBrowse(m_root), 6, 1);
  grid->addWidget(label(tr("Checkpoint rule"), m_rule), 6, 2);
  grid->addWidget(m_rule, 6, 3);
  grid->setRowStretch(7, 1);  // extra height goes below the fields
  grid->setColumnStretch(1, 3);
  grid->setColumnStretch(3, 2);

  for (QLineEdit* e : {m_name, m_train, m_eval, m_split, m_pattern, m_labels})
    connect(e, &QLineEdit::textChanged, this, &DatasetEditor::onFormEdited);
  for (QComboBox* c : {m_format, m_glueTask, m_role, m_template, m_protocol})
    connect(c, qOverload<int>(&QComboBox::currentIndexChanged), this, &DatasetEditor::onFormEdited);
  connect(m_fewshot, qOverload<int>(&QSpinBox::valueChanged), this, &DatasetEditor::onFormEdited);
  connect(m_root, &QLineEdit::textChanged, this, [this] {
    if (!m_syncing) Q_EMIT edited();
  });
  connect(m_rule, &QComboBox::currentTextChanged, this, [this] {
    if (!m_syncing) Q_EMIT edited();
  });
  return m_details;
}

void DatasetEditor::showConfig(const nlohmann::json& config) {
  m_syncing = true;
  // A config without data.datasets (another suite) leaves the rows as they are: choosing the
  // datasets suite again writes them back.
  std::vector<nlohmann::json> rows = m_rows;
  const nlohmann::json* dataNode =
      config.is_object() && config.contains("data") ? &config["data"] : nullptr;
  if (dataNode && dataNode->is_object() && dataNode->contains("datasets") &&
      (*dataNode)["datasets"].is_array())
    rows.assign((*dataNode)["datasets"].begin(), (*dataNode)["datasets"].end());
  if (rows != m_rows) {
    const int keep = selectedRow();
    m_rows = std::move(rows);
    m_list->clear();
    for (int i = 0; i < rowCount(); ++i) {
      m_list->addItem(QString());
      refreshListItem(i);
    }
    const int row = m_rows.empty() ? -1 : std::clamp(keep < 0 ? 0 : keep, 0, rowCount() - 1);
    m_list->setCurrentRow(row);
    showRow(row);
  }
  m_root->setText(qs(dataNode ? text(*dataNode, "root") : std::string()));
  const nlohmann::json* train =
      config.is_object() && config.contains("train") ? &config["train"] : nullptr;
  setComboText(m_rule, qs(train ? text(*train, "checkpoint_rule", "last") : "last"));
  m_syncing = false;
}

void DatasetEditor::writeInto(nlohmann::json& config) const {
  nlohmann::json& dataNode = config["data"];
  dataNode["datasets"] = datasetsJson();
  const std::string root = m_root->text().trimmed().toStdString();
  if (root.empty())
    dataNode.erase("root");
  else
    dataNode["root"] = root;
  const std::string rule = m_rule->currentText().toStdString();
  const bool hasRule = config.contains("train") && config["train"].is_object() &&
                       config["train"].contains("checkpoint_rule");
  if (!rule.empty() && (rule != "last" || hasRule)) config["train"]["checkpoint_rule"] = rule;
}

void DatasetEditor::addRow() {
  int n = rowCount() + 1;
  auto taken = [this](const std::string& name) {
    for (const auto& r : m_rows)
      if (text(r, "name") == name) return true;
    return false;
  };
  while (taken("task" + std::to_string(n))) ++n;
  m_rows.push_back({{"name", "task" + std::to_string(n)},
                    {"format", kFormatAlpaca},
                    {"template", "alpaca"},
                    {"protocol", {{"id", kProtocolTeacherForced}}}});
  m_syncing = true;
  m_list->addItem(QString());
  refreshListItem(rowCount() - 1);
  m_list->setCurrentRow(rowCount() - 1);
  m_syncing = false;
  showRow(rowCount() - 1);
  Q_EMIT edited();
}

void DatasetEditor::removeSelected() {
  const int row = selectedRow();
  if (row < 0) return;
  m_rows.erase(m_rows.begin() + row);
  m_syncing = true;
  delete m_list->takeItem(row);
  const int next = std::min(row, rowCount() - 1);
  m_list->setCurrentRow(next);
  m_syncing = false;
  showRow(next);
  Q_EMIT edited();
}

void DatasetEditor::selectRow(int row) { m_list->setCurrentRow(row); }

int DatasetEditor::selectedRow() const {
  const int row = m_list->currentRow();
  return row >= 0 && row < rowCount() ? row : -1;
}

void DatasetEditor::showRow(int row) {
  const bool was = m_syncing;
  m_syncing = true;
  const bool valid = row >= 0 && row < rowCount();
  const nlohmann::json r = valid ? m_rows[static_cast<size_t>(row)] : nlohmann::json::object();
  for (QWidget* w : {static_cast<QWidget*>(m_name), static_cast<QWidget*>(m_format),
                     static_cast<QWidget*>(m_train), static_cast<QWidget*>(m_eval),
                     static_cast<QWidget*>(m_split), static_cast<QWidget*>(m_role),
                     static_cast<QWidget*>(m_template), static_cast<QWidget*>(m_protocol),
                     static_cast<QWidget*>(m_fewshot)})
    w->setEnabled(valid);
  m_remove->setEnabled(valid);
  m_name->setText(qs(text(r, "name")));
  setComboText(m_format, qs(text(r, "format", kFormatAlpaca)));
  setComboText(m_glueTask, qs(text(r, "glue_task", "mrpc")));
  m_train->setText(qs(text(r, "train")));
  nlohmann::json first = nlohmann::json::object();
  if (r.contains("eval") && r["eval"].is_array() && !r["eval"].empty()) first = r["eval"][0];
  m_eval->setText(qs(text(first, "path")));
  m_split->setText(qs(text(first, "split", "test")));
  setComboText(m_role, qs(text(first, "role", kRoleTest)));
  setComboText(m_template, qs(text(r, "template", "alpaca")));
  const nlohmann::json p = protocolOf(r);
  setComboText(m_protocol, qs(text(p, "id", kProtocolTeacherForced)));
  m_pattern->setText(qs(text(p, "pattern")));
  QStringList labels;
  if (p.contains("labels") && p["labels"].is_array())
    for (const auto& l : p["labels"])
      if (l.is_string()) labels << qs(l.get<std::string>());
  m_labels->setText(labels.join(QStringLiteral(", ")));
  m_fewshot->setValue(p.contains("num_fewshot") && p["num_fewshot"].is_number_integer()
                          ? p["num_fewshot"].get<int>()
                          : 0);
  updateFieldStates();
  m_syncing = was;
}

void DatasetEditor::updateFieldStates() {
  const bool valid = selectedRow() >= 0;
  const std::string id = m_protocol->currentText().toStdString();
  m_glueTask->setEnabled(valid && m_format->currentText() == QLatin1String(kFormatGlue));
  m_pattern->setEnabled(valid && protocol_generates(id));
  m_labels->setEnabled(valid && id == kProtocolLabelNextToken);
  ProtocolSpec spec;
  spec.id = id;
  const std::string pattern = protocol_pattern(spec);
  m_pattern->setPlaceholderText(
      id == kProtocolBeamFirstMatch
          ? tr("required, e.g. answer[1-5] or true|false")
          : (pattern.empty() ? QString() : tr("default: %1").arg(qs(pattern))));
  m_protocolHelp->setText(id.empty() ? QString() : qs(protocol_description(id)));
  m_protocol->setToolTip(m_protocolHelp->text());
}

void DatasetEditor::refreshListItem(int row) {
  if (row < 0 || row >= rowCount()) return;
  const nlohmann::json& r = m_rows[static_cast<size_t>(row)];
  const std::string name = text(r, "name");
  const QString label =
      QStringLiteral("%1 · %2 · %3")
          .arg(name.empty() ? tr("(no name)") : qs(name), qs(text(r, "format", kFormatAlpaca)),
               qs(text(protocolOf(r), "id", kProtocolTeacherForced)));
  if (QListWidgetItem* item = m_list->item(row)) item->setText(label);
}

void DatasetEditor::onFormEdited() {
  if (m_syncing) return;
  updateFieldStates();
  const int row = selectedRow();
  if (row < 0) return;
  nlohmann::json& r = m_rows[static_cast<size_t>(row)];
  if (!r.is_object()) r = nlohmann::json::object();
  const std::string format = m_format->currentText().toStdString();
  r["name"] = m_name->text().trimmed().toStdString();
  r["format"] = format;
  if (format == kFormatGlue)
    r["glue_task"] = m_glueTask->currentText().toStdString();
  else
    r.erase("glue_task");
  const std::string train = m_train->text().trimmed().toStdString();
  if (train.empty())
    r.erase("train");
  else
    r["train"] = train;
  r["template"] = m_template->currentText().toStdString();
  // The first eval split is the form's; further splits stay as they are.
  nlohmann::json evals =
      r.contains("eval") && r["eval"].is_array() ? r["eval"] : nlohmann::json::array();
  const std::string evalPath = m_eval->text().trimmed().toStdString();
  if (evalPath.empty()) {
    if (!evals.empty()) evals.erase(evals.begin());
  } else {
    if (evals.empty() || !evals[0].is_object())
      evals.insert(evals.begin(), nlohmann::json::object());
    const std::string split = m_split->text().trimmed().toStdString();
    evals[0]["path"] = evalPath;
    evals[0]["split"] = split.empty() ? std::string("test") : split;
    evals[0]["role"] = m_role->currentText().toStdString();
  }
  if (evals.empty())
    r.erase("eval");
  else
    r["eval"] = evals;
  // Protocol: only the fields the chosen id uses (labels on another protocol is an error).
  nlohmann::json p = protocolOf(r);
  const std::string id = m_protocol->currentText().toStdString();
  p["id"] = id;
  const std::string pattern = m_pattern->text().toStdString();
  if (protocol_generates(id) && !pattern.empty())
    p["pattern"] = pattern;
  else
    p.erase("pattern");
  std::vector<std::string> labels;
  for (const QString& l : m_labels->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
    if (!l.trimmed().isEmpty()) labels.push_back(l.trimmed().toStdString());
  if (id == kProtocolLabelNextToken && !labels.empty())
    p["labels"] = labels;
  else
    p.erase("labels");
  if (m_fewshot->value() > 0)
    p["num_fewshot"] = m_fewshot->value();
  else
    p.erase("num_fewshot");
  r["protocol"] = p;
  refreshListItem(row);
  Q_EMIT edited();
}

void DatasetEditor::browse(QLineEdit* edit) {
  const QString file = edit == m_root
                           ? QFileDialog::getExistingDirectory(this, tr("Data root"), edit->text())
                           : QFileDialog::getOpenFileName(
                                 this, tr("Dataset file"), m_root->text(),
                                 tr("Datasets (*.json *.jsonl *.tsv *.csv);;All files (*)"));
  if (!file.isEmpty()) edit->setText(file);
}

}  // namespace apportion::ui
