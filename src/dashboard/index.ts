/** The dashboard room: a read-only local web app over a study storage (`autopeft dashboard`). */
export { startDashboard, isLoopback, STATIC_DIR, type Dashboard, type DashboardOptions } from './server.js';
export {
  listStudySummaries,
  studyDetail,
  hypervolumeOverlay,
  parameterImportance,
  dominanceOf,
  dominanceStatements,
  curveOf,
  type ReadOnlyStorage,
  type StudySummary,
  type StudyDetail,
  type DashTrial,
  type Importance,
  type Dominance,
} from './data.js';
