// The debug adapter's figures (issue 3) join here once the adapter exists.
export const adapterScenarios = [];
