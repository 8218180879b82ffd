/**
 * What the coordinator keeps of spot-checks (coordinator/src/reputation): one record per
 * checked update, and per contributor its agreement counts and whether it is quarantined. Every
 * method returns a Promise, as the Store interface does in the shared-store mode.
 */

export interface SpotCheckRecord {
  /** The checked update (one check per update). */
  updateId: string;
  jobId: string;
  round: number;
  unitId: string;
  contributorId: string;
  /** The tab's backend, which chose the replica's loss path. */
  backend: string | null;
  passed: boolean;
  /** ||update - replica|| / ||replica||. */
  distance: number;
  /** Blob of the coordinator's replica: it feeds aggregation in place of a failed update. */
  replicaHash: string;
  createdAt: string;
}

export interface ReputationRecord {
  contributorId: string;
  checksPassed: number;
  checksFailed: number;
  quarantined: boolean;
  updatedAt: string;
}

export interface ReputationStore {
  /** Records a check and counts it for its contributor, in one transaction; returns the new counts. */
  recordCheck(check: SpotCheckRecord): Promise<ReputationRecord>;
  listChecks(jobId: string, round: number): Promise<SpotCheckRecord[]>;
  getReputation(contributorId: string): Promise<ReputationRecord | null>;
  listReputations(): Promise<ReputationRecord[]>;
  setQuarantined(contributorId: string, quarantined: boolean, now: string): Promise<void>;
  /**
   * Lifts a quarantine (an admin's decision): the record goes back to probation (no passes, no
   * failures, so every unit is checked again as for a new contributor); its spot_checks rows are
   * kept. Null, changing nothing, when the contributor is not quarantined.
   */
  releaseQuarantine(contributorId: string, now: string): Promise<ReputationRecord | null>;
}
