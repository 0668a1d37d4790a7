import { describeWorkflowProperty } from 'test/support/workflow-property';

// A few walks, the same on every run, for the quick suite; the slow project runs 40 random ones.
describeWorkflowProperty('workflow invariants under random acts (property, seeded)', 8, 20260101);
