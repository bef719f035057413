// SPDX-License-Identifier: GPL-3.0-or-later
// SweepDialog: the form, the grid editor and the sweep file (read, write, submit). Members are
// expanded and checked with ap_core's own sweep and config code, as `apportion sweep` does.
#include "ui/widgets/sweep_dialog.h"

#include <QCompleter>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"
#include "core/remote/sweep_spec.h"
#include "ui/widgets/executor_picker.h"
#include "ui/widgets/sweep_values.h"

namespace apportion::ui {

namespace {

/// Member configs checked live (each is a strict parse of a small JSON: microseconds).
constexpr size_t kCheckedMembers = 500;

/// The experiment's value at a dotted key, or nullptr.
const nlohmann::json* valueAt(const nlohmann::json& j, const QString& key) {
  const nlohmann::json* node = &j;
  for (const QString& part : key.split(QLatin1Char('.'))) {
    if (!node->is_object() || !node->contains(part.toStdString())) return nullptr;
    node = &(*node)[part.toStdString()];
  }
  return node;
}

/// Config keys complete from the experiment's own (flattened) keys.
class KeyDelegate : public QStyledItemDelegate {
 public:
  KeyDelegate(const QStringList* keys, QObject* parent)
      : QStyledItemDelegate(parent), m_keys(keys) {}
  QWidget* createEditor(QWidget* parent,
                        const QStyleOptionViewItem& /*option*/,
                        const QModelIndex& /*index*/) const override {
    auto* edit = new QLineEdit(parent);
    auto* completer = new QCompleter(*m_keys, edit);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    completer->setFilterMode(Qt::MatchContains);
    edit->setCompleter(completer);
    return edit;
  }

 private:
  const QStringList* m_keys;
};

}  // namespace

SweepDialog::SweepDialog(const QString& experimentsDir,
                         const QDir& workspace,
                         SweepBackend backend,
                         QWidget* parent)
    : QDialog(parent),
      m_workspace(workspace),
      m_experimentsDir(experimentsDir),
      m_backend(std::move(backend)),
      m_name(new QLineEdit),
      m_experimentEdit(new QLineEdit),
      m_experimentInfo(new QLabel),
      m_grid(new QTableWidget(0, 3)),
      m_seeds(new QLineEdit),
      m_fixed(new QLineEdit),
      m_maxSteps(new QSpinBox),
      m_maxParallel(new QSpinBox),
      m_executor(new ExecutorPicker),
      m_count(new QLabel),
      m_error(new QLabel),
      m_output(new QPlainTextEdit) {
  setWindowTitle(tr("New sweep"));
  resize(900, 760);
  auto* layout = new QVBoxLayout(this);

  auto* top = new QFormLayout;
  auto* experimentRow = new QHBoxLayout;
  experimentRow->addWidget(m_experimentEdit, 1);
  auto* presets = new QToolButton;
  presets->setText(tr("Presets"));
  presets->setPopupMode(QToolButton::InstantPopup);
  auto* presetMenu = new QMenu(presets);
  for (const QFileInfo& f :
       QDir(experimentsDir).entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
    const QString path = f.absoluteFilePath();
    presetMenu->addAction(f.fileName(), this, [this, path] { setExperimentPath(path); });
  }
  presets->setMenu(presetMenu);
  presets->setEnabled(!presetMenu->isEmpty());
  experimentRow->addWidget(presets);
  auto* browse = new QPushButton(tr("Browse…"));
  experimentRow->addWidget(browse);
  top->addRow(tr("Experiment"), experimentRow);
  m_experimentInfo->setWordWrap(true);
  m_experimentInfo->setStyleSheet(QStringLiteral("color: #555;"));
  top->addRow(QString(), m_experimentInfo);
  m_name->setPlaceholderText(tr("the experiment's name"));
  m_name->setToolTip(tr("Names the sweep file (sweeps/NAME.json) and starts each run's name"));
  top->addRow(tr("Sweep name"), m_name);
  layout->addLayout(top);

  layout->addWidget(buildGrid(), 1);

  auto* knobs = new QFormLayout;
  m_seeds->setPlaceholderText(tr("the experiment's seed (e.g. 0-2 or 0,1,2)"));
  m_seeds->setToolTip(tr("Each grid point runs once per seed; its runs form a seed group"));
  knobs->addRow(tr("Seeds"), m_seeds);
  m_fixed->setPlaceholderText(tr("key=value; key=value (the same for every run)"));
  knobs->addRow(tr("Fixed settings"), m_fixed);
  m_maxSteps->setRange(0, 100000000);
  m_maxSteps->setSpecialValueText(tr("the experiment's"));
  m_maxSteps->setToolTip(tr("train.steps of every run (0: as in the experiment)"));
  knobs->addRow(tr("Steps per run"), m_maxSteps);
  m_maxParallel->setRange(0, 10000);
  m_maxParallel->setSpecialValueText(tr("the profile's max_parallel"));
  knobs->addRow(tr("Runs at a time"), m_maxParallel);
  m_executor->setLocalText(tr("This computer (a local queue)"),
                           tr("Runs as `apportion train` processes of a queue on this computer "
                              "(--on local); they outlive this window"));
  m_executor->setRememberKey(QStringLiteral("sweep/executor"));
  knobs->addRow(tr("Run on"), m_executor);
  layout->addLayout(knobs);

  m_count->setStyleSheet(QStringLiteral("color: #1f4f8f; font-weight: bold;"));
  layout->addWidget(m_count);
  m_error->setWordWrap(true);
  m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
  m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(m_error);
  m_output->setReadOnly(true);
  m_output->setFont(QFont(QStringLiteral("monospace"), 9));
  m_output->setLineWrapMode(QPlainTextEdit::NoWrap);
  m_output->setMaximumBlockCount(5000);
  layout->addWidget(m_output, 1);

  auto* buttons = new QHBoxLayout;  // files left; preview, cancel, submit right (in this order)
  auto* open = new QPushButton(tr("Open…"));
  auto* save = new QPushButton(tr("Save…"));
  m_previewButton = new QPushButton(tr("Preview (dry run)"));
  m_previewButton->setToolTip(
      tr("`apportion sweep --dry-run`: the launch keys, the profile "
         "and every member, checked; nothing is submitted"));
  m_close = new QPushButton(tr("Cancel"));
  m_submit = new QPushButton(tr("Submit"));
  m_submit->setDefault(true);
  for (QPushButton* b : {open, save}) buttons->addWidget(b);
  buttons->addStretch(1);
  for (QPushButton* b : {m_previewButton, m_close, m_submit}) buttons->addWidget(b);
  layout->addLayout(buttons);

  connect(browse, &QPushButton::clicked, this, [this] {
    const QString start = experimentPath().isEmpty() ? m_experimentsDir : experimentPath();
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Experiment"), start, tr("Experiment JSON (*.json)"));
    if (!path.isEmpty()) setExperimentPath(path);
  });
  connect(m_experimentEdit, &QLineEdit::editingFinished, this, [this] { revalidate(true); });
  for (QLineEdit* edit : {m_name, m_seeds, m_fixed})
    connect(edit, &QLineEdit::textChanged, this, [this] { revalidate(); });
  for (QSpinBox* spin : {m_maxSteps, m_maxParallel})
    connect(spin, qOverload<int>(&QSpinBox::valueChanged), this, [this] { revalidate(); });
  connect(m_executor, &ExecutorPicker::profileChanged, this, [this] { revalidate(); });
  connect(open, &QPushButton::clicked, this, &SweepDialog::openFileDialog);
  connect(save, &QPushButton::clicked, this, &SweepDialog::saveFileDialog);
  connect(m_previewButton, &QPushButton::clicked, this, &SweepDialog::preview);
  connect(m_submit, &QPushButton::clicked, this, &SweepDialog::submit);
  connect(m_close, &QPushButton::clicked, this, &QDialog::reject);
  addGridRow();
  revalidate(true);
}

SweepDialog::~SweepDialog() {
  for (QObject* child : findChildren<QObject*>()) child->disconnect(this);
}

QWidget* SweepDialog::buildGrid() {
  auto* box = new QWidget;
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* title =
      new QLabel(tr("<b>Grid</b> — one row per config key; every combination of the "
                    "values is a grid point"));
  layout->addWidget(title);
  m_grid->setHorizontalHeaderLabels(
      {tr("Config key"), tr("Values (comma-separated)"), tr("In the experiment")});
  m_grid->horizontalHeader()->setSectionResizeMode(KeyColumn, QHeaderView::Interactive);
  m_grid->horizontalHeader()->setSectionResizeMode(ValuesColumn, QHeaderView::Stretch);
  m_grid->horizontalHeader()->setSectionResizeMode(CurrentColumn, QHeaderView::Interactive);
  m_grid->setColumnWidth(KeyColumn, 240);
  m_grid->setColumnWidth(CurrentColumn, 170);
  m_grid->verticalHeader()->setVisible(false);
  m_grid->setItemDelegateForColumn(KeyColumn, new KeyDelegate(&m_keys, m_grid));
  m_grid->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_grid->setToolTip(
      tr("Values are JSON when they parse (0.001, true, [2,4], \"text\"), else "
         "text; a key whose value in the experiment is text keeps text"));
  layout->addWidget(m_grid, 1);
  auto* buttons = new QHBoxLayout;
  auto* add = new QPushButton(tr("Add row"));
  auto* remove = new QPushButton(tr("Remove row"));
  buttons->addWidget(add);
  buttons->addWidget(remove);
  buttons->addStretch(1);
  layout->addLayout(buttons);
  connect(add, &QPushButton::clicked, this, [this] {
    addGridRow();
    m_grid->setCurrentCell(m_grid->rowCount() - 1, KeyColumn);
    m_grid->editItem(m_grid->currentItem());
  });
  connect(remove, &QPushButton::clicked, this, [this] {
    const int row = m_grid->currentRow();
    if (row >= 0) m_grid->removeRow(row);
    revalidate();
  });
  connect(m_grid, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
    if (item->column() != CurrentColumn) revalidate();
  });
  return box;
}

void SweepDialog::addGridRow(const QString& key, const QString& values) {
  const QSignalBlocker quiet(m_grid);
  const int row = m_grid->rowCount();
  m_grid->insertRow(row);
  m_grid->setItem(row, KeyColumn, new QTableWidgetItem(key));
  m_grid->setItem(row, ValuesColumn, new QTableWidgetItem(values));
  auto* current = new QTableWidgetItem;
  current->setFlags(Qt::ItemIsEnabled);
  current->setForeground(QColor(0x66, 0x66, 0x66));
  m_grid->setItem(row, CurrentColumn, current);
  if (!key.isEmpty() || !values.isEmpty()) revalidate();
}

void SweepDialog::clearGrid() {
  m_grid->setRowCount(0);
  revalidate();
}

void SweepDialog::setExperimentPath(const QString& path) {
  m_experimentEdit->setText(QDir::toNativeSeparators(path));
  revalidate(true);
}

QString SweepDialog::experimentPath() const {
  const QString text = m_experimentEdit->text().trimmed();
  return text.isEmpty() ? QString()
                        : QFileInfo(QDir::fromNativeSeparators(text)).absoluteFilePath();
}

void SweepDialog::setSweepName(const QString& name) { m_name->setText(name); }

QString SweepDialog::sweepName() const {
  QString name = m_name->text().trimmed();
  if (name.isEmpty() && m_experiment.is_object() && m_experiment.contains("name") &&
      m_experiment["name"].is_string())
    name = QString::fromStdString(m_experiment["name"].get<std::string>());
  return name.isEmpty() ? QStringLiteral("sweep") : name;
}

QString SweepDialog::profileArgument() const {
  const QString path = m_executor->profilePath();
  return path.isEmpty() ? QStringLiteral("local") : path;
}

QString SweepDialog::errorText() const { return m_error->text(); }

QString SweepDialog::countText() const { return m_count->text(); }

QString SweepDialog::experimentRef(const QString& sweepDir) const {
  const QString abs = experimentPath();
  if (sweepDir.isEmpty()) return abs;
  const QString rel = QDir(sweepDir).relativeFilePath(abs);
  return rel.startsWith(QLatin1String("../../")) ? abs : rel;
}

bool SweepDialog::keyHoldsString(const QString& key) const {
  const nlohmann::json* value = valueAt(m_experiment, key);
  return value && value->is_string();
}

bool SweepDialog::readGrid(nlohmann::ordered_json& grid, QString* error) const {
  grid = nlohmann::ordered_json::object();
  for (int row = 0; row < m_grid->rowCount(); ++row) {
    const QTableWidgetItem* keyItem = m_grid->item(row, KeyColumn);
    const QTableWidgetItem* valuesItem = m_grid->item(row, ValuesColumn);
    const QString k = keyItem ? keyItem->text().trimmed() : QString();
    const QString text = valuesItem ? valuesItem->text() : QString();
    if (k.isEmpty() && text.trimmed().isEmpty()) continue;
    const QString where = tr("Grid row %1").arg(row + 1);
    if (k.isEmpty()) {
      *error = tr("%1: the config key is missing (e.g. train.lr)").arg(where);
      return false;
    }
    if (k.contains(QLatin1Char('=')) || k.contains(QLatin1Char(' '))) {
      *error = tr("%1: '%2' is not a dotted config key (e.g. train.lr)").arg(where, k);
      return false;
    }
    if (grid.contains(k.toStdString())) {
      *error = tr("%1: %2 is already a grid key").arg(where, k);
      return false;
    }
    const nlohmann::json values = parseGridValues(text, keyHoldsString(k));
    if (values.empty()) {
      *error = tr("%1 (%2): no values; write them comma-separated").arg(where, k);
      return false;
    }
    grid[k.toStdString()] = nlohmann::ordered_json::parse(values.dump());
  }
  return true;
}

nlohmann::ordered_json SweepDialog::buildSweep(const QString& sweepDir, QString* error) const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  const auto fail = [error](const QString& why) {
    *error = why;
    return nlohmann::ordered_json();
  };
  if (experimentPath().isEmpty()) return fail(tr("Choose the experiment (a JSON file)."));
  if (!m_experimentError.isEmpty()) return fail(m_experimentError);
  if (!m_name->text().trimmed().isEmpty()) j["name"] = m_name->text().trimmed().toStdString();
  j["experiment"] = experimentRef(sweepDir).toStdString();
  nlohmann::ordered_json grid;
  if (!readGrid(grid, error)) return {};
  if (!grid.empty()) j["grid"] = grid;
  QString seedError;
  const auto seeds = parseSeeds(m_seeds->text(), &seedError);
  if (!seeds) return fail(seedError);
  if (!seeds->empty()) j["seeds"] = *seeds;
  std::vector<std::string> fixed;
  for (const QString& part : m_fixed->text().split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
    const QString item = part.trimmed();
    if (item.isEmpty()) continue;
    if (item.indexOf(QLatin1Char('=')) <= 0)
      return fail(tr("Fixed settings: write key=value; got '%1'").arg(item));
    fixed.push_back(item.toStdString());
  }
  if (!fixed.empty()) j["set"] = fixed;
  if (m_maxSteps->value() > 0) j["max_steps"] = m_maxSteps->value();
  if (m_maxParallel->value() > 0) j["max_parallel"] = m_maxParallel->value();
  error->clear();
  return j;
}

nlohmann::ordered_json SweepDialog::sweepJson(const QString& sweepDir) const {
  QString error;
  return buildSweep(sweepDir, &error);
}

void SweepDialog::revalidate(bool experimentChanged) {
  if (experimentChanged) {
    m_experiment = nullptr;
    m_experimentError.clear();
    m_keys.clear();
    const QString path = experimentPath();
    try {
      if (!path.isEmpty()) {
        m_experiment = read_json_file_bounded(path.toStdString(), JsonLimits::config());
        if (!m_experiment.is_object()) throw Error("the experiment must be a JSON object {…}");
        for (const auto& [key, value] : flatten_json(m_experiment))
          m_keys << QString::fromStdString(key);
      }
    } catch (const std::exception& e) {
      m_experiment = nullptr;
      m_experimentError = tr("Experiment %1: %2").arg(path, QString::fromUtf8(e.what()));
    }
    const auto text = [this](const char* key) {
      return m_experiment.is_object() && m_experiment.contains(key) && m_experiment[key].is_string()
                 ? QString::fromStdString(m_experiment[key].get<std::string>())
                 : QString();
    };
    const QString info = text("description").isEmpty()
                             ? text("name")
                             : QStringLiteral("%1 — %2").arg(text("name"), text("description"));
    m_experimentInfo->setText(info);
    m_experimentInfo->setVisible(!info.isEmpty());
  }
  {
    const QSignalBlocker quiet(m_grid);
    for (int row = 0; row < m_grid->rowCount(); ++row) {
      const QTableWidgetItem* key = m_grid->item(row, KeyColumn);
      const nlohmann::json* v = key ? valueAt(m_experiment, key->text().trimmed()) : nullptr;
      if (QTableWidgetItem* current = m_grid->item(row, CurrentColumn))
        current->setText(
            v ? QString::fromStdString(v->is_string() ? v->get<std::string>() : v->dump())
              : QString());
    }
  }
  QString error;
  const nlohmann::ordered_json sweep = buildSweep({}, &error);
  std::vector<SweepMember> members;
  size_t seeds = 1;
  if (error.isEmpty()) {
    try {
      const SweepSpec spec =
          sweep_spec_from_json(nlohmann::json::parse(sweep.dump()), tr("sweep").toStdString());
      members = expand_sweep(spec);
      seeds = spec.seeds.empty() ? 1 : spec.seeds.size();
      for (size_t i = 0; i < members.size() && i < kCheckedMembers; ++i) {
        nlohmann::json cfg = m_experiment;
        try {
          apply_overrides(cfg, members[i].overrides);
          if (spec.max_steps > 0) cfg["train"]["steps"] = spec.max_steps;
          ExperimentConfig::from_json(cfg);
        } catch (const std::exception& e) {
          throw Error(
              tr("Run %1 (%2): %3")
                  .arg(i + 1)
                  .arg(QString::fromStdString(members[i].label), QString::fromUtf8(e.what()))
                  .toStdString());
        }
      }
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
      members.clear();
    }
  }
  m_error->setText(error);
  m_error->setVisible(!error.isEmpty());
  m_memberCount = error.isEmpty() ? static_cast<int>(members.size()) : -1;
  if (m_memberCount > 0) {
    const size_t points = members.size() / seeds;
    const QString where =
        m_executor->profilePath().isEmpty() ? tr("this computer") : m_executor->profileName();
    const auto count = [](size_t n, const QString& one, const QString& many) {
      return QStringLiteral("%1 %2").arg(n).arg(n == 1 ? one : many);
    };
    m_count->setText(tr("%1: %2 × %3 · on %4")
                         .arg(count(members.size(), tr("run"), tr("runs")),
                              count(points, tr("grid point"), tr("grid points")),
                              count(seeds, tr("seed"), tr("seeds")), where));
  } else {
    m_count->clear();
  }
  if (!m_busy) {
    QStringList lines;
    for (const SweepMember& m : members)
      lines << QStringLiteral("%1  %2%3")
                   .arg(m.index + 1, 4)
                   .arg(m.label.empty() ? QStringLiteral("-") : QString::fromStdString(m.label))
                   .arg(m.has_seed ? QStringLiteral("  seed %1").arg(m.seed) : QString());
    m_output->setPlainText(lines.join(QLatin1Char('\n')));
  }
  m_submit->setEnabled(!m_busy && m_memberCount > 0 && static_cast<bool>(m_backend.run));
  m_previewButton->setEnabled(!m_busy && m_memberCount > 0 && static_cast<bool>(m_backend.run));
}

}  // namespace apportion::ui
