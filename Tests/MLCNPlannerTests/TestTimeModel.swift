// Planner tests plan with codegen's real kernel report, as the CLI does.

import MLCNBase
import MLCNCodegen
import MLCNPlanner

extension TimeModel {
  init(machine: Machine, measured: MeasuredTimes = MeasuredTimes()) {
    self.init(machine: machine, measured: measured, kernels: Codegen.reporter())
  }
}
